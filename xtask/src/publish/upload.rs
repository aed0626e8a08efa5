//! A version's objects: uploaded once, never replaced. An object already under a version's key is
//! read back (GetObject) and compared byte for byte with what this run would upload, left alone
//! when it is the same and refused ([`Conflict`], exit 2) when it is not. Nothing stored is taken
//! on trust: the object's user metadata is whatever its writer sent, and the zip is reproducible,
//! so anyone who can write to the bucket first could plant other bytes under this build's hash.

use std::fmt::Write as _;

use aws_sdk_s3::primitives::ByteStream;
use deploy_shell::AwsCallError;
use sha2::{Digest, Sha256};

use crate::publish_error::{Conflict, PublishError};
use crate::seed_zip::hex_sha256;

/// The object metadata key holding the uploaded bytes' sha256: informative only, never trusted
/// when deciding whether an object holds this build's bytes (any writer can set it).
const SHA256_METADATA: &str = "sha256";

/// What a version's key holds, as S3 returns it.
enum Stored {
    Missing,
    Same,
    /// Other bytes: their size, and their sha256 when they were read whole.
    Other(String),
}

/// Uploads `body` to `key` unless the object is there with the same bytes; a version's keys never
/// take other bytes, so what a provisioning artifact points at stays what it was published with.
pub(super) async fn upload(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    body: &[u8],
    content_type: &str,
) -> Result<String, PublishError> {
    let sha256 = hex_sha256(body);
    match stored(s3, bucket, key, body).await? {
        (Stored::Missing, _) => {}
        (Stored::Same, _) => {
            return Ok(format!(
                "found s3://{bucket}/{key} (the same {} bytes)",
                body.len()
            ))
        }
        (Stored::Other(stored), claimed) => {
            let claim = if claimed.as_deref() == Some(sha256.as_str()) {
                " although its sha256 metadata claims this build's hash".to_owned()
            } else {
                String::new()
            };
            return Err(Conflict::Object {
                bucket: bucket.to_owned(),
                key: key.to_owned(),
                stored,
                len: body.len(),
                sha256,
                claim,
                folder: key
                    .rsplit_once('/')
                    .map_or("", |(folder, _)| folder)
                    .to_owned(),
            }
            .into());
        }
    }
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .content_type(content_type)
        .metadata(SHA256_METADATA, &sha256)
        .body(ByteStream::from(body.to_vec()))
        .send()
        .await
        .map_err(|e| AwsCallError::new("s3:PutObject", e))?;
    Ok(format!(
        "uploaded s3://{bucket}/{key} ({} bytes)",
        body.len()
    ))
}

/// Reads back what `key` holds (GetObject) and compares it byte for byte with `body`; also returns
/// the object's `sha256` metadata, for the message only. The read stops as soon as the object is
/// longer than `body`, so a large object planted there is never held in memory. S3 answers 404
/// for a missing key when the caller may list the bucket
/// (<https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html>, "Permissions").
async fn stored(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    body: &[u8],
) -> Result<(Stored, Option<String>), PublishError> {
    let object = match s3.get_object().bucket(bucket).key(key).send().await {
        Ok(object) => object,
        Err(err)
            if err
                .raw_response()
                .is_some_and(|r| r.status().as_u16() == 404) =>
        {
            return Ok((Stored::Missing, None))
        }
        Err(err) => return Err(AwsCallError::new("s3:GetObject", err).into()),
    };
    let claimed = object
        .metadata()
        .and_then(|m| m.get(SHA256_METADATA))
        .cloned();
    if let Some(length) = object
        .content_length()
        .filter(|&n| u64::try_from(n).ok() != Some(body.len() as u64))
    {
        return Ok((Stored::Other(format!("{length} bytes")), claimed));
    }
    let mut stream = object.body;
    let mut hasher = Sha256::new();
    let mut read = 0usize;
    let mut same = true;
    loop {
        let chunk = match stream.try_next().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(err) => {
                return Err(PublishError::ReadBack {
                    bucket: bucket.to_owned(),
                    key: key.to_owned(),
                    reason: err.to_string(),
                })
            }
        };
        let end = read + chunk.len();
        let Some(expected) = body.get(read..end) else {
            return Ok((
                Stored::Other(format!("more than {} bytes", body.len())),
                claimed,
            ));
        };
        same &= expected == &chunk[..];
        hasher.update(&chunk);
        read = end;
    }
    if same && read == body.len() {
        return Ok((Stored::Same, claimed));
    }
    let digest = hasher
        .finalize()
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        });
    Ok((
        Stored::Other(format!("{read} bytes, sha256 {digest}")),
        claimed,
    ))
}
