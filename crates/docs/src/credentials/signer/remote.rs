//! "Hash in, signature out" remote signing over HTTPS, the way Vietnamese remote-signing
//! services (SmartCA, MySign) work: the service holds the key, the holder approves each request
//! in a phone app. The protocol is documented in `docs/signing.md`.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use der::Decode;
use reqwest::StatusCode;
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde::{Deserialize, Serialize};
use x509_cert::Certificate;

use super::{SignatureAlgorithm, Signer, SignerError, verify_digest_signature};

/// Upper bound of one HTTP exchange; the approval itself may take much longer (`timeout`).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Where and how to reach the remote signing service.
#[derive(Clone)]
pub struct RemoteSignerConfig {
    /// Base URL, e.g. `https://sign.example.vn/api/v1` (no trailing `/sign`).
    pub url: String,
    /// The holder's key at the service.
    pub key_id: String,
    /// Sent as `Authorization: Bearer …` when present.
    pub bearer_token: Option<String>,
    /// PEM of a CA to trust in addition to the built-in web roots (a private deployment or tests).
    pub extra_root_ca_pem: Option<Vec<u8>>,
    /// How long to wait for the holder to approve one signing request.
    pub timeout: Duration,
    /// Interval between status requests while approval is pending.
    pub poll: Duration,
}

impl std::fmt::Debug for RemoteSignerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteSignerConfig")
            .field("url", &self.url)
            .field("key_id", &self.key_id)
            .field("bearer_token", &self.bearer_token.as_ref().map(|_| "<redacted>"))
            .field("timeout", &self.timeout)
            .field("poll", &self.poll)
            .finish_non_exhaustive()
    }
}

/// A key held by a remote signing service. [`RemoteSigner::new`] fetches the certificate chain
/// once; each [`Signer::sign_digest`] call blocks until the holder approves, rejects, or the
/// configured timeout passes.
pub struct RemoteSigner {
    config: RemoteSignerConfig,
    base: String,
    client: Client,
    chain: Vec<Certificate>,
    algorithm: SignatureAlgorithm,
}

#[derive(Serialize)]
struct SignRequest<'a> {
    key_id: &'a str,
    algorithm: &'a str,
    digest: String,
}

#[derive(Deserialize)]
struct SignatureResponse {
    signature: String,
}

#[derive(Deserialize)]
struct PendingResponse {
    request_id: String,
}

#[derive(Deserialize)]
struct CertificatesResponse {
    certificates: Vec<String>,
}

impl RemoteSigner {
    /// Builds the HTTPS client and fetches the key's certificate chain
    /// (`GET {url}/certificates?key_id=`).
    ///
    /// Blocking: do not call from inside an async runtime thread.
    pub fn new(config: RemoteSignerConfig) -> Result<Self, SignerError> {
        if config.key_id.is_empty() {
            return Err(SignerError::RemoteConfig("empty key_id".into()));
        }
        if let Some(token) = &config.bearer_token
            && (token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()))
        {
            // An HTTP header carries bytes, not text: a token outside visible ASCII would be
            // mangled on the way and rejected as a wrong credential.
            return Err(SignerError::RemoteConfig(
                "the bearer token must be visible ASCII".into(),
            ));
        }
        let base = config.url.trim_end_matches('/').to_owned();
        let parsed =
            reqwest::Url::parse(&base).map_err(|e| SignerError::RemoteConfig(format!("url: {e}")))?;
        if parsed.scheme() != "https" {
            // The digest is not secret, but the bearer token is and the answer must be authentic.
            return Err(SignerError::RemoteConfig("the url must use https".into()));
        }
        let mut builder = Client::builder().timeout(REQUEST_TIMEOUT).https_only(true);
        if let Some(pem) = &config.extra_root_ca_pem {
            let certificate = reqwest::Certificate::from_pem(pem)
                .map_err(|e| SignerError::RemoteConfig(format!("extra root CA: {e}")))?;
            builder = builder.add_root_certificate(certificate);
        }
        let client = builder
            .build()
            .map_err(|e| SignerError::RemoteConfig(e.to_string()))?;

        let request = client
            .get(format!("{base}/certificates"))
            .query(&[("key_id", config.key_id.as_str())]);
        let response = send(authorize(request, &config))?;
        let response = check_status(response, || SignerError::RemoteUnknownKey(config.key_id.clone()))?;
        if response.status() != StatusCode::OK {
            return Err(SignerError::RemoteBadResponse(format!(
                "certificates: HTTP {}",
                response.status()
            )));
        }
        let body: CertificatesResponse = json(response)?;
        let chain = body
            .certificates
            .iter()
            .map(|b64| {
                let der = B64
                    .decode(b64)
                    .map_err(|e| SignerError::RemoteBadResponse(format!("certificate base64: {e}")))?;
                Certificate::from_der(&der)
                    .map_err(|e| SignerError::RemoteBadResponse(format!("certificate: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let signer = chain
            .first()
            .ok_or_else(|| SignerError::RemoteBadResponse("empty certificate list".into()))?;
        let algorithm = SignatureAlgorithm::for_certificate(signer)?;
        Ok(Self {
            config,
            base,
            client,
            chain,
            algorithm,
        })
    }

    fn signature_from(&self, response: Response, digest: &[u8; 32]) -> Result<Vec<u8>, SignerError> {
        let body: SignatureResponse = json(response)?;
        let signature = B64
            .decode(body.signature)
            .map_err(|e| SignerError::RemoteBadResponse(format!("signature base64: {e}")))?;
        verify_digest_signature(&self.chain[0], self.algorithm, digest, &signature)?;
        Ok(signature)
    }
}

impl Signer for RemoteSigner {
    fn chain(&self) -> &[Certificate] {
        &self.chain
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    fn sign_digest(&self, digest: &[u8; 32]) -> Result<Vec<u8>, SignerError> {
        let deadline = Instant::now() + self.config.timeout;
        let timeout_error = || SignerError::RemoteTimeout {
            seconds: self.config.timeout.as_secs(),
        };
        let body = SignRequest {
            key_id: &self.config.key_id,
            algorithm: self.algorithm.as_str(),
            digest: B64.encode(digest),
        };
        let request = self.client.post(format!("{}/sign", self.base)).json(&body);
        let unknown_key = || SignerError::RemoteUnknownKey(self.config.key_id.clone());
        let response = check_status(send(authorize(request, &self.config))?, unknown_key)?;
        let request_id = match response.status() {
            StatusCode::OK => return self.signature_from(response, digest),
            StatusCode::ACCEPTED => json::<PendingResponse>(response)?.request_id,
            other => return Err(SignerError::RemoteBadResponse(format!("sign: HTTP {other}"))),
        };
        // The id goes into a URL path: anything beyond a plain token is refused rather than escaped.
        if request_id.is_empty()
            || !request_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(SignerError::RemoteBadResponse(format!(
                "request_id {request_id:?}"
            )));
        }
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Err(timeout_error());
            }
            std::thread::sleep(self.config.poll.min(deadline - now));
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(timeout_error());
            }
            let request = self
                .client
                .get(format!("{}/sign/{request_id}", self.base))
                .timeout(remaining.min(REQUEST_TIMEOUT));
            let unknown_request = || {
                SignerError::RemoteBadResponse(format!("the service no longer knows request {request_id}"))
            };
            let response = check_status(send(authorize(request, &self.config))?, unknown_request)?;
            match response.status() {
                StatusCode::OK => return self.signature_from(response, digest),
                StatusCode::ACCEPTED => continue,
                other => return Err(SignerError::RemoteBadResponse(format!("status: HTTP {other}"))),
            }
        }
    }
}

fn authorize(request: RequestBuilder, config: &RemoteSignerConfig) -> RequestBuilder {
    match &config.bearer_token {
        Some(token) => request.bearer_auth(token),
        None => request,
    }
}

fn send(request: RequestBuilder) -> Result<Response, SignerError> {
    request.send().map_err(|e| {
        // Connection, TLS and timeout failures all mean "the service cannot be used now";
        // the source chain carries the detail (refused, certificate, …).
        let mut message = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            message.push_str(": ");
            message.push_str(&s.to_string());
            source = s.source();
        }
        SignerError::RemoteUnreachable(message)
    })
}

/// Maps the statuses that mean the same for every endpoint to their errors.
fn check_status(
    response: Response,
    not_found: impl FnOnce() -> SignerError,
) -> Result<Response, SignerError> {
    match response.status() {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(SignerError::RemoteUnauthorized),
        StatusCode::NOT_FOUND => Err(not_found()),
        StatusCode::GONE => Err(SignerError::RemoteRejected),
        s if s.is_server_error() => Err(SignerError::RemoteUnreachable(format!("HTTP {s}"))),
        _ => Ok(response),
    }
}

fn json<T: serde::de::DeserializeOwned>(response: Response) -> Result<T, SignerError> {
    let bytes = response
        .bytes()
        .map_err(|e| SignerError::RemoteUnreachable(e.to_string()))?;
    serde_json::from_slice(&bytes).map_err(|e| SignerError::RemoteBadResponse(format!("JSON: {e}")))
}
