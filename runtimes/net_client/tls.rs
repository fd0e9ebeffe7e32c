//! TLS for the client's connections, on rustls with the `ring` provider.

use std::sync::{Arc, OnceLock};

use futures_util::io::{AsyncRead, AsyncWrite};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, RootCertStore};

/// Where the client's TLS configuration comes from.
#[derive(Debug, Clone)]
enum Source {
    /// The platform's root certificates (rustls-native-certs).
    Platform,
    /// These roots.
    Roots(Arc<RootCertStore>),
    /// This whole configuration.
    Config(Arc<ClientConfig>),
}

/// The client's TLS configuration, made on first use and then shared by
/// every connection of the transport (and its clones).
#[derive(Debug, Clone)]
pub(crate) struct Tls {
    source: Source,
    config: Arc<OnceLock<Result<Arc<ClientConfig>, String>>>,
}

impl Default for Tls {
    fn default() -> Self {
        Self::new(Source::Platform)
    }
}

impl Tls {
    fn new(source: Source) -> Self {
        Self {
            source,
            config: Arc::new(OnceLock::new()),
        }
    }

    /// Trusts these roots (and not the platform's).
    pub(crate) fn roots(roots: RootCertStore) -> Self {
        Self::new(Source::Roots(Arc::new(roots)))
    }

    /// Uses this configuration as it is.
    pub(crate) fn config(config: Arc<ClientConfig>) -> Self {
        Self::new(Source::Config(config))
    }

    fn client_config(&self) -> Result<Arc<ClientConfig>, String> {
        self.config.get_or_init(|| build(&self.source)).clone()
    }

    /// A TLS session with `host` over `tcp`, its certificate checked.
    ///
    /// # Errors
    /// A sentence naming the host and rustls's reason (an unknown issuer,
    /// a certificate for another name, no roots on this system, …).
    pub(crate) async fn connect<T: AsyncRead + AsyncWrite + Unpin>(
        &self,
        host: &str,
        tcp: T,
    ) -> Result<futures_rustls::client::TlsStream<T>, String> {
        let config = self.client_config()?;
        let name = ServerName::try_from(host.to_owned())
            .map_err(|e| format!("{host} is not a valid TLS server name: {e}"))?;
        futures_rustls::TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS handshake with {host} failed: {e}"))
    }
}

fn build(source: &Source) -> Result<Arc<ClientConfig>, String> {
    let roots = match source {
        Source::Config(config) => return Ok(config.clone()),
        Source::Roots(roots) => (**roots).clone(),
        Source::Platform => platform_roots()?,
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS configuration: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The platform's trusted roots (read once per transport, on its first TLS
/// connection).
fn platform_roots() -> Result<RootCertStore, String> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    let (added, _unparsable) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        return Err(format!(
            "no usable root certificates on this system ({} errors loading them): install the platform's CA certificates, or give the transport its roots",
            found.errors.len()
        ));
    }
    Ok(roots)
}
