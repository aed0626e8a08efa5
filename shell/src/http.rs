//! The one HTTP client both binaries use: hyper, with rustls on ring for HTTPS (no aws-lc, no
//! second TLS stack). Start-up costs only what a run needs: a request to a plain `http://`
//! endpoint (the emulator) never builds a TLS connector, so no trust root is read; the first
//! HTTPS request builds one, once, from the cheapest source the platform has: one CA bundle file
//! (`SSL_CERT_FILE`, or the distribution's bundle) read in one go, instead of the whole
//! certificate directory (about 150 files on Ubuntu) that the generic loader also parses.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use deploy_core::input_file::ReadError;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

/// The CA bundles Linux distributions ship, cheapest first to find: Debian and Ubuntu (CodeBuild's
/// standard images), Amazon Linux, RHEL and Fedora (CodeBuild's Amazon Linux images), openSUSE,
/// Alpine.
pub const BUNDLE_FILES: [&str; 4] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// The HTTP client for every SDK client: plain HTTP straight away, HTTPS built on first use.
pub fn http_client() -> SharedHttpClient {
    SharedHttpClient::new(SchemeRouted {
        plain: plain_client(),
        https: Arc::new(OnceLock::new()),
    })
}

/// The client for `http://`: the same hyper and rustls stack as HTTPS (a second, TLS-free client
/// type would add its own copy of hyper's code to the binary), with an empty trust store, so
/// building it reads no certificate.
fn plain_client() -> SharedHttpClient {
    let no_roots = TlsContext::builder()
        .with_trust_store(TrustStore::empty())
        .build()
        .unwrap_or_default();
    rustls_client(no_roots)
}

/// Routes each request by its scheme; the HTTPS client (and its trust roots) exists only once a
/// request needs it.
#[derive(Debug, Clone)]
struct SchemeRouted {
    plain: SharedHttpClient,
    https: Arc<OnceLock<SharedHttpClient>>,
}

impl HttpClient for SchemeRouted {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(RoutedConnector {
            plain: self.plain.http_connector(settings, components),
            client: self.clone(),
            settings: settings.clone(),
            components: components.clone(),
        })
    }
}

/// One settings' connector: the plain one ready, the HTTPS one from the (cached) HTTPS client.
#[derive(Debug)]
struct RoutedConnector {
    plain: SharedHttpConnector,
    client: SchemeRouted,
    settings: HttpConnectorSettings,
    components: RuntimeComponents,
}

impl HttpConnector for RoutedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        if is_plain_http(request.uri()) {
            return self.plain.call(request);
        }
        // The hyper client caches its connector per settings, so this builds one per timeout set.
        let https = self.client.https.get_or_init(https_client);
        https
            .http_connector(&self.settings, &self.components)
            .call(request)
    }
}

fn is_plain_http(uri: &str) -> bool {
    uri.get(..7)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("http://"))
}

fn https_client() -> SharedHttpClient {
    let var = |name: &str| std::env::var_os(name);
    let trust = match (bundle(&var), refused_cert_file(&var)) {
        (Some(roots), _) => TrustStore::empty().with_pem_certificate(roots.pem),
        // The generic loader would read SSL_CERT_FILE itself, blocking on a FIFO or reading a
        // device without end: trust nothing, so the first HTTPS call fails naming the endpoint.
        (None, Some(why)) => {
            tracing::warn!("{why}; no HTTPS endpoint is trusted");
            TrustStore::empty()
        }
        // No single bundle (or SSL_CERT_DIR asks for a directory): the generic loader.
        (None, None) => TrustStore::default(),
    };
    let context = TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .unwrap_or_default();
    rustls_client(context)
}

fn rustls_client(context: TlsContext) -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .tls_context(context)
        .build_https()
}

/// The trust roots read from one bundle file.
pub struct Bundle {
    pub path: PathBuf,
    /// The file's certificates that rustls accepts as roots, as PEM.
    pub pem: Vec<u8>,
    pub certificates: usize,
}

impl fmt::Debug for Bundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({} certificates)",
            self.path.display(),
            self.certificates
        )
    }
}

/// The bundle to trust: `SSL_CERT_FILE` when set, else the first of [`BUNDLE_FILES`] that holds a
/// usable root; none when `SSL_CERT_DIR` is set (the user asked for a directory) or no file has
/// one, and then the generic loader decides.
pub fn bundle(var: &dyn Fn(&str) -> Option<std::ffi::OsString>) -> Option<Bundle> {
    if var("SSL_CERT_DIR").is_some() {
        return None;
    }
    let candidates: Vec<PathBuf> = match var("SSL_CERT_FILE") {
        Some(file) => vec![PathBuf::from(file)],
        None => BUNDLE_FILES.iter().map(PathBuf::from).collect(),
    };
    candidates.iter().find_map(|path| read_bundle(path))
}

/// The most a CA bundle may hold: distributions' bundles are about 200 KiB.
const MAX_BUNDLE_BYTES: u64 = 16 * 1024 * 1024;

/// Why `SSL_CERT_FILE` names nothing a trust store may read, if it does not: not a regular file
/// (a FIFO would block the run's only thread, a device never ends) or over [`MAX_BUNDLE_BYTES`].
fn refused_cert_file(var: &dyn Fn(&str) -> Option<std::ffi::OsString>) -> Option<String> {
    let path = PathBuf::from(var("SSL_CERT_FILE")?);
    match deploy_core::input_file::read(&path, MAX_BUNDLE_BYTES) {
        Err(why @ (ReadError::NotRegular | ReadError::TooBig { .. } | ReadError::Directory)) => {
            Some(format!("SSL_CERT_FILE {}: {why}", path.display()))
        }
        _ => None,
    }
}

/// The certificates of `path` that rustls takes as roots, read through the one bounded reader
/// of input files. A block it would reject is left out here, because the TLS layer treats a bad
/// custom certificate as a bug and panics.
fn read_bundle(path: &Path) -> Option<Bundle> {
    let text = deploy_core::input_file::read(path, MAX_BUNDLE_BYTES).ok()?;
    let mut pem = Vec::with_capacity(text.len());
    let mut certificates = 0;
    for block in pem_blocks(&text) {
        if accepted_root(block) {
            pem.extend_from_slice(block);
            pem.push(b'\n');
            certificates += 1;
        }
    }
    (certificates > 0).then(|| Bundle {
        path: path.to_owned(),
        pem,
        certificates,
    })
}

const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
const END: &[u8] = b"-----END CERTIFICATE-----";

/// Each `BEGIN CERTIFICATE` .. `END CERTIFICATE` block of `text`, markers included.
fn pem_blocks(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let start = find(rest, BEGIN)?;
        let end = start + find(&rest[start..], END)? + END.len();
        let block = &rest[start..end];
        rest = &rest[end..];
        Some(block)
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Whether `block` parses exactly as the TLS layer will parse it: one certificate, which a root
/// store accepts.
fn accepted_root(block: &[u8]) -> bool {
    let Ok(ders) = CertificateDer::pem_slice_iter(block).collect::<Result<Vec<_>, _>>() else {
        return false;
    };
    let mut roots = rustls::RootCertStore::empty();
    !ders.is_empty() && ders.into_iter().all(|der| roots.add(der).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn system_bundle() -> &'static str {
        BUNDLE_FILES
            .iter()
            .copied()
            .find(|f| Path::new(f).exists())
            .expect("this machine has a CA bundle")
    }

    /// What the first bytes a client sends to a local listener were.
    fn first_bytes_sent(endpoint_scheme: &str, routed: &SchemeRouted) -> Vec<u8> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let reader = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut buf = [0u8; 4];
            std::io::Read::read_exact(&mut stream, &mut buf).unwrap();
            buf.to_vec()
        });
        let config = aws_sdk_sts::Config::builder()
            .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
            .region(aws_sdk_sts::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_sts::config::Credentials::for_tests())
            .endpoint_url(format!("{endpoint_scheme}://127.0.0.1:{port}"))
            .http_client(SharedHttpClient::new(routed.clone()))
            .retry_config(aws_sdk_sts::config::retry::RetryConfig::disabled())
            .timeout_config(
                aws_sdk_sts::config::timeout::TimeoutConfig::builder()
                    .operation_timeout(std::time::Duration::from_secs(2))
                    .build(),
            )
            .build();
        let client = aws_sdk_sts::Client::from_conf(config);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _ = runtime.block_on(client.get_caller_identity().send());
        reader.join().unwrap()
    }

    #[test]
    fn plain_http_never_builds_tls_and_https_speaks_tls() {
        let routed = SchemeRouted {
            plain: plain_client(),
            https: Arc::new(OnceLock::new()),
        };

        assert_eq!(first_bytes_sent("http", &routed), b"POST");
        assert!(routed.https.get().is_none(), "no TLS for plain HTTP");

        let hello = first_bytes_sent("https", &routed);
        assert_eq!(hello[0], 0x16, "a TLS handshake record: {hello:?}");
        assert!(routed.https.get().is_some());
    }

    #[test]
    fn only_plain_http_skips_tls() {
        assert!(is_plain_http("http://127.0.0.1:5000/"));
        assert!(is_plain_http("HTTP://localhost"));
        assert!(!is_plain_http("https://sagemaker.us-east-1.amazonaws.com/"));
        assert!(!is_plain_http("http"));
    }

    #[test]
    fn the_system_bundle_is_read_whole_and_a_bad_block_is_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let good = std::fs::read_to_string(system_bundle()).unwrap();
        let first = pem_blocks(good.as_bytes()).next().unwrap();
        let mixed = dir.path().join("mixed.pem");
        let text = format!(
            "junk\n{BEGIN}\nnot base64 at all\n{END}\n{}\n{BEGIN}\nAAAA\n{END}\n",
            String::from_utf8_lossy(first),
            BEGIN = "-----BEGIN CERTIFICATE-----",
            END = "-----END CERTIFICATE-----"
        );
        std::fs::write(&mixed, text).unwrap();
        let var = |name: &str| (name == "SSL_CERT_FILE").then(|| OsString::from(&mixed));

        let found = bundle(&var).expect("one usable root");

        assert_eq!(found.certificates, 1);
        assert_eq!(found.path, mixed);

        let system = bundle(&|_| None).expect("the distribution's bundle");
        assert_eq!(system.path, Path::new(system_bundle()));
        assert!(system.certificates > 50, "{system:?}");
    }

    #[test]
    fn a_certificate_directory_or_an_unusable_file_leaves_it_to_the_generic_loader() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "no certificates here").unwrap();
        let wants_dir = |name: &str| (name == "SSL_CERT_DIR").then(|| OsString::from("/etc/ssl"));
        let unusable = |name: &str| (name == "SSL_CERT_FILE").then(|| OsString::from(&empty));
        let missing = |name: &str| (name == "SSL_CERT_FILE").then(|| OsString::from("/nope.pem"));

        assert!(bundle(&wants_dir).is_none());
        assert!(bundle(&unusable).is_none());
        assert!(bundle(&missing).is_none());
        // Those the generic loader may read: a file, or nothing at all.
        assert_eq!(refused_cert_file(&unusable), None);
        assert_eq!(refused_cert_file(&missing), None);
        assert_eq!(refused_cert_file(&wants_dir), None);
    }

    #[test]
    fn a_fifo_or_a_device_as_the_bundle_is_refused_without_reading_it() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("bundle.pem");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        for path in [fifo.as_path(), Path::new("/dev/zero")] {
            let var = |name: &str| (name == "SSL_CERT_FILE").then(|| OsString::from(path));
            // Would block (the FIFO has no writer) or never end (/dev/zero) if read.
            assert!(bundle(&var).is_none(), "{}", path.display());
            let why = refused_cert_file(&var).expect("refused");
            assert!(
                why.starts_with(&format!("SSL_CERT_FILE {}: ", path.display()))
                    && why.contains("not a regular file"),
                "{why}"
            );
        }
    }
}
