//! The TLS client configuration: the system's trusted roots, or the authorities in
//! `SMTP_CA_FILE`; always the ring provider (no process-wide provider needed).

use std::sync::Arc;

use rustls::RootCertStore;
use rustls::crypto::ring;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use tokio_rustls::TlsConnector;

use crate::config::{SmtpConfig, TlsMode};
use crate::error::SmtpError;

pub(crate) fn connector(config: &SmtpConfig) -> Result<TlsConnector, SmtpError> {
    let roots = match (&config.ca_file, config.tls) {
        // A plain connection never uses the connector; skip loading the system roots.
        (_, TlsMode::None) => RootCertStore::empty(),
        (Some(path), _) => {
            let certificates = CertificateDer::pem_file_iter(path)
                .and_then(|certificates| certificates.collect::<Result<Vec<_>, _>>())
                .map_err(|error| SmtpError::Tls(format!("SMTP_CA_FILE {}: {error}", path.display())))?;
            roots_from(certificates)?
        }
        (None, _) => {
            let found = rustls_native_certs::load_native_certs();
            if found.certs.is_empty() {
                return Err(SmtpError::Tls(format!(
                    "no system CA certificates found (install ca-certificates, or set SMTP_CA_FILE): {:?}",
                    found.errors
                )));
            }
            roots_from(found.certs)?
        }
    };
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|error| SmtpError::Tls(error.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

fn roots_from(certificates: Vec<CertificateDer<'static>>) -> Result<RootCertStore, SmtpError> {
    let mut roots = RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(certificates);
    if added == 0 {
        return Err(SmtpError::Tls("no usable CA certificate".to_owned()));
    }
    Ok(roots)
}
