//! rustls client configuration: the trusted roots (Mozilla's, or the CA file of the
//! cluster), an optional client certificate for mutual TLS, and the explicit
//! `insecure` mode that accepts any server certificate (development only).

use crate::config::TlsConfig;
use crate::error::ConfigError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::path::Path;
use std::sync::Arc;

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read_certs(
    what: &'static str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let bad = |reason: String| ConfigError::TlsFile {
        what,
        path: path.to_path_buf(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| bad(crate::error::root_cause(&e)))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("not a PEM certificate file: {e}")))?;
    if certs.is_empty() {
        return Err(bad("no PEM certificate in it".into()));
    }
    Ok(certs)
}

/// Builds the rustls config; every file problem is a [`ConfigError`] naming the file.
pub(crate) fn client_config(tls: &TlsConfig) -> Result<ClientConfig, ConfigError> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| ConfigError::Tls(e.to_string()))?;
    let mut roots = RootCertStore::empty();
    match &tls.ca {
        Some(path) => {
            for cert in read_certs("ca", path)? {
                roots.add(cert).map_err(|e| ConfigError::TlsFile {
                    what: "ca",
                    path: path.clone(),
                    reason: format!("not a usable CA certificate: {e}"),
                })?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let builder = builder.with_root_certificates(roots);
    let mut config = match (&tls.cert, &tls.key) {
        (Some(cert), Some(key)) => {
            let chain = read_certs("client certificate", cert)?;
            let bad = |reason: String| ConfigError::TlsFile {
                what: "client key",
                path: key.clone(),
                reason,
            };
            let bytes = std::fs::read(key).map_err(|e| bad(crate::error::root_cause(&e)))?;
            let key_der = PrivateKeyDer::from_pem_slice(&bytes)
                .map_err(|e| bad(format!("no PEM private key in it: {e}")))?;
            builder
                .with_client_auth_cert(chain, key_der)
                .map_err(|e| bad(format!("does not match the certificate: {e}")))?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => {
            return Err(ConfigError::Invalid {
                field: "tls".into(),
                reason: "`cert` and `key` go together".into(),
            })
        }
    };
    if tls.insecure {
        config
            .dangerous()
            .set_certificate_verifier(Arc::new(AcceptAnyCert(provider())));
    }
    Ok(config)
}

/// `insecure = true`: the certificate is not checked (signatures still are, so the
/// handshake is well-formed). Never for production.
#[derive(Debug)]
struct AcceptAnyCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn missing_ca_file() {
        let tls = TlsConfig {
            ca: Some("/nonexistent/ca.pem".into()),
            ..Default::default()
        };
        let e = client_config(&tls).unwrap_err().to_string();
        assert_eq!(
            e,
            "cannot use ca file [/nonexistent/ca.pem]: no such file or directory"
        );
    }

    #[test]
    fn garbage_ca_file() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(b"this is not a certificate\n").unwrap();
        let tls = TlsConfig {
            ca: Some(f.path().into()),
            ..Default::default()
        };
        let e = client_config(&tls).unwrap_err().to_string();
        assert!(e.ends_with("no PEM certificate in it"), "{e}");
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(b"-----BEGIN CERTIFICATE-----\nnot base64!!\n-----END CERTIFICATE-----\n")
            .unwrap();
        let tls = TlsConfig {
            ca: Some(f.path().into()),
            ..Default::default()
        };
        let e = client_config(&tls).unwrap_err().to_string();
        assert!(e.contains("cannot use ca file"), "{e}");
    }

    #[test]
    fn cert_without_key() {
        let tls = TlsConfig {
            cert: Some("/x.pem".into()),
            ..Default::default()
        };
        assert_eq!(
            client_config(&tls).unwrap_err().to_string(),
            "invalid setting [tls]: `cert` and `key` go together"
        );
    }

    #[test]
    fn defaults_and_insecure_build() {
        client_config(&TlsConfig::default()).unwrap();
        client_config(&TlsConfig {
            insecure: true,
            ..Default::default()
        })
        .unwrap();
    }
}
