//! Starting and stopping the emulator.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How to reach the running emulator.
#[derive(Debug)]
pub struct Moto {
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
    pub port: u16,
    /// The server's working directory (it may write files there).
    pub work_dir: PathBuf,
}

static MOTO: OnceLock<Moto> = OnceLock::new();
static MOTO_PID: AtomicI32 = AtomicI32::new(0);

const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The emulator of this test process, started on first use.
pub fn moto() -> &'static Moto {
    MOTO.get_or_init(|| start().unwrap_or_else(|why| panic!("{why}")))
}

extern "C" fn kill_moto() {
    let pid = MOTO_PID.load(Ordering::SeqCst);
    if pid > 0 {
        // SAFETY: plain syscalls on a pid this process spawned.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
            libc::waitpid(pid, std::ptr::null_mut(), 0);
        }
    }
}

fn start() -> Result<Moto, String> {
    let work_dir = std::env::temp_dir().join(format!("moto-{}", std::process::id()));
    std::fs::create_dir_all(&work_dir)
        .map_err(|e| format!("cannot create {}: {e}", work_dir.display()))?;
    let log_path = work_dir.join("moto_server.log");
    let log = std::fs::File::create(&log_path)
        .map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;

    // Spawned from a thread that lives as long as the process, so the parent-death signal (which
    // Linux ties to the spawning thread) fires only when the whole test process dies.
    let (sender, receiver) = std::sync::mpsc::channel();
    let dir = work_dir.clone();
    let program = crate::tools::python_tool("moto_server");
    std::thread::Builder::new()
        .name("moto-server-parent".into())
        .spawn(move || {
            let mut command = Command::new(&program);
            command
                .args(["-H", "127.0.0.1", "-p", "0"])
                .current_dir(&dir)
                .env_remove("MOTO_ACCOUNT_ID")
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log handle"))
                .stderr(log);
            // SAFETY: prctl is async-signal-safe and touches only the child.
            unsafe {
                command.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                    Ok(())
                });
            }
            let spawned = command.spawn();
            let child = match spawned {
                Ok(child) => child,
                Err(err) => {
                    let _ = sender.send(Err(err.to_string()));
                    return;
                }
            };
            MOTO_PID.store(child.id() as i32, Ordering::SeqCst);
            // SAFETY: registering a plain extern "C" function.
            unsafe { libc::atexit(kill_moto) };
            let _ = sender.send(Ok(()));
            loop {
                std::thread::park();
            }
        })
        .map_err(|e| format!("cannot start the moto_server thread: {e}"))?;
    receiver.recv().map_err(|e| e.to_string())?.map_err(|e| {
        format!("moto_server could not start ({e}); run `bash scripts/ensure-tools.sh`")
    })?;

    let deadline = Instant::now() + START_TIMEOUT;
    let port = loop {
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        if let Some(port) = text
            .split("Running on http://127.0.0.1:")
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|digits| digits.parse::<u16>().ok())
        {
            break port;
        }
        if Instant::now() > deadline {
            return Err(format!(
                "moto_server did not report its port within {START_TIMEOUT:?}; its log:\n{text}"
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    while http_status(port, "GET", "/moto-api/data.json", "") != Some(200) {
        if Instant::now() > deadline {
            return Err(format!(
                "moto_server on port {port} did not answer within {START_TIMEOUT:?}"
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(Moto {
        endpoint: format!("http://127.0.0.1:{port}"),
        port,
        work_dir,
    })
}

/// One plain HTTP/1.0 request to the emulator; the status code, if it answered.
pub fn http_status(port: u16, method: &str, path: &str, json_body: &str) -> Option<u16> {
    http_request(port, method, path, json_body).map(|(status, _)| status)
}

/// One plain HTTP/1.0 request to the emulator; the status code and body, if it answered.
pub fn http_request(port: u16, method: &str, path: &str, json_body: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let request = format!(
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{json_body}",
        json_body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    Some((status, body.to_owned()))
}

impl Moto {
    /// The environment a binary needs to talk to this emulator as account 123456789012, and
    /// nothing from the developer's machine (no profiles, no real credentials).
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.endpoint.as_str()),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_CONFIG_FILE", "/dev/null"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    /// Queues InvokeEndpoint answers for one account and region.
    pub fn queue_endpoint_results(
        &self,
        account_id: &str,
        region: &str,
        results: &serde_json::Value,
    ) {
        let body =
            serde_json::json!({"account_id": account_id, "region": region, "results": results})
                .to_string();
        let status = http_status(
            self.port,
            "POST",
            "/moto-api/static/sagemaker/endpoint-results",
            &body,
        );
        assert!(
            matches!(status, Some(200 | 201)),
            "queueing endpoint results failed: HTTP {status:?}"
        );
    }
}
