//! Gateway behaviour that needs no OpenSearch: the retry budget against nodes that
//! answer 503 to everything, unreachable nodes, black holes, bad TLS files, and TLS
//! against a local server with its own CA.

mod support;

use bytes::Bytes;
use http::{HeaderMap, Method};
use searchgate_upstream::{ConfigError, ForwardRequest, TlsConfig, Upstream, UpstreamConfig};
use sg_faultproxy::{FaultProxy, Mode};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

fn get(path: &str) -> ForwardRequest {
    ForwardRequest::new(Method::GET, path, HeaderMap::new(), Bytes::new())
}

/// A port on 127.0.0.1 where nothing listens.
async fn closed_port() -> u16 {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap().port()
}

#[tokio::test]
async fn retry_budget_bounds_requests_to_a_cluster_answering_503() {
    let nowhere = format!("127.0.0.1:{}", closed_port().await)
        .parse()
        .unwrap();
    let mut proxies = Vec::new();
    for _ in 0..3 {
        let p = FaultProxy::start(nowhere).await;
        p.set_mode(Mode::Status503);
        proxies.push(p);
    }
    let mut config = UpstreamConfig::from_urls(
        &proxies
            .iter()
            .map(|p| p.url())
            .collect::<Vec<_>>()
            .join(","),
    )
    .unwrap();
    config.health.interval = Duration::ZERO; // count only request traffic
    config.retry.backoff_base = Duration::from_millis(1);
    config.retry.backoff_max = Duration::from_millis(2);
    config.seed = Some(7);
    let (ratio, floor, window) = (
        config.retry.budget_ratio,
        config.retry.budget_min_per_sec,
        config.retry.budget_window,
    );
    let gw = Upstream::new(config).unwrap();

    let n = 300u64;
    let started = Instant::now();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stats = support::load(gw.clone(), 3, n, stop, |_| get("/idx/_search")).await;
    let elapsed = started.elapsed();
    let upstream: u64 = proxies.iter().map(|p| p.answered_503()).sum();
    let bound = n as f64 * (1.0 + ratio) + floor as f64 * (elapsed + window).as_secs_f64();
    let view = gw.nodes_view();
    eprintln!(
        "503 cluster: {n} client requests -> {upstream} upstream requests in {elapsed:?} \
         (budget bound {bound:.0}, without a budget up to {}); retries {}, denied {}",
        n * 3,
        view["retries"],
        view["retry_budget"]["denied"]
    );
    // every client request got the node's 503 passed through, none was lost
    assert_eq!(stats.failed(), n);
    assert!(
        stats.errors.lock()[0].starts_with("status 503: "),
        "{}",
        stats.errors.lock()[0]
    );
    assert!(stats.errors.lock()[0].contains("fault_proxy_exception"));
    assert!(upstream >= n);
    assert!(
        (upstream as f64) <= bound,
        "{upstream} upstream requests > budget bound {bound}"
    );
    assert!(view["retry_budget"]["denied"].as_u64().unwrap() > 0);
    // all three are dead and their breakers opened
    for node in view["nodes"].as_array().unwrap() {
        assert_eq!(node["state"], "dead", "{node}");
        assert!(node["breaker"]["trips"].as_u64().unwrap() >= 1, "{node}");
    }
}

#[tokio::test]
async fn unreachable_node_is_dead_with_a_clear_error() {
    let url = format!("http://127.0.0.1:{}", closed_port().await);
    let mut config = UpstreamConfig::from_urls(&url).unwrap();
    config.health.interval = Duration::ZERO;
    let gw = Upstream::new(config).unwrap();

    let report = gw.check_health().await;
    assert_eq!(report.alive(), 0);
    let err = report.require_any_alive().unwrap_err();
    assert_eq!(err.status, 503);
    assert_eq!(
        err.reason,
        format!("no node of cluster [upstream] answered: {url}: connection refused")
    );
    let node = support::node_view(&gw, &url);
    assert_eq!(node["state"], "dead");
    assert_eq!(node["last_error"], "connection refused");

    // a request is still tried (all dead: the one closest to revival), and fails clearly
    let err = gw.forward(get("/_search")).await.unwrap_err();
    let body = err.to_body();
    assert_eq!(body["status"], 502);
    assert_eq!(body["error"]["type"], "connect_exception");
    assert_eq!(body["error"]["node"], url.as_str());
    assert_eq!(body["error"]["cause"], "connection refused");
    assert_eq!(
        body["error"]["reason"],
        format!("cannot connect to node [{url}]: connection refused")
    );

    // a write that never left gets the same error (it would have been retried elsewhere)
    let err = gw
        .forward(ForwardRequest::new(
            Method::POST,
            "/idx/_doc",
            HeaderMap::new(),
            Bytes::from_static(b"{}"),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.kind, "connect_exception");
}

#[tokio::test]
async fn black_hole_gives_a_timeout_naming_the_node() {
    let nowhere = format!("127.0.0.1:{}", closed_port().await)
        .parse()
        .unwrap();
    let hole = FaultProxy::start(nowhere).await;
    hole.set_mode(Mode::BlackHole);
    let mut config = UpstreamConfig::from_urls(&hole.url()).unwrap();
    config.health.interval = Duration::ZERO;
    config.timeouts.read = Duration::from_millis(300);
    config.timeouts.total = Duration::from_secs(2);
    let gw = Upstream::new(config).unwrap();
    let t0 = Instant::now();
    let err = gw.forward(get("/_search")).await.unwrap_err();
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    assert_eq!(err.status, 504, "{err:?}");
    assert_eq!(err.kind, "timeout_exception");
    assert_eq!(err.extra["node"], hole.url().as_str());
}

#[test]
fn bad_ca_file_is_a_startup_error() {
    let mut config = UpstreamConfig::from_urls("https://127.0.0.1:9200").unwrap();
    config.tls.ca = Some("/nonexistent/ca.pem".into());
    let err = Upstream::new(config.clone()).unwrap_err();
    assert!(matches!(err, ConfigError::TlsFile { .. }));
    assert_eq!(
        err.to_string(),
        "cannot use ca file [/nonexistent/ca.pem]: no such file or directory"
    );

    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("ca.pem");
    std::fs::write(&garbage, "hello\n").unwrap();
    config.tls.ca = Some(garbage.clone());
    let err = Upstream::new(config.clone()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "cannot use ca file [{}]: no PEM certificate in it",
            garbage.display()
        )
    );

    // and the same from validate(), for a server that checks its config first
    assert!(config.validate().is_err());
}

#[test]
fn bad_urls_are_startup_errors() {
    let err = UpstreamConfig::from_urls("http://127.0.0.1:9200,localhost:9200").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("invalid node url [localhost:9200]"),
        "{err}"
    );
    let mut config = UpstreamConfig::default();
    config
        .nodes
        .push(searchgate_upstream::NodeConfig::new("http://:9200"));
    assert!(Upstream::new(config).is_err());
}

// === TLS against a local server with a CA of its own ===

mod tls_server {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, KeyUsagePurpose,
    };
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    pub struct Fixture {
        pub url: String,
        pub ca_pem: String,
        pub client_cert_pem: String,
        pub client_key_pem: String,
    }

    /// Starts an HTTPS server with a certificate from a CA of its own, answering `{}`
    /// to every request; with `mtls` it requires a client certificate from that CA.
    pub async fn start(mtls: bool) -> Fixture {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .unwrap()
            .signed_by(&key, &ca)
            .unwrap();
        let client_key = KeyPair::generate().unwrap();
        let client_cert = CertificateParams::new(vec!["gateway".to_string()])
            .unwrap()
            .signed_by(&client_key, &ca)
            .unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap();
        let builder = if mtls {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(ca.der().clone()).unwrap();
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .unwrap();
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        let server = builder
            .with_single_cert(
                vec![cert.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "https://127.0.0.1:{}",
            listener.local_addr().unwrap().port()
        );
        tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    continue;
                };
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(sock).await else {
                        return;
                    };
                    let mut buf = vec![0u8; 8192];
                    let mut got = Vec::new();
                    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tls.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => got.extend_from_slice(&buf[..n]),
                        }
                    }
                    let _ = tls
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}")
                        .await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        Fixture {
            url,
            ca_pem: ca.pem(),
            client_cert_pem: client_cert.pem(),
            client_key_pem: client_key.serialize_pem(),
        }
    }
}

#[tokio::test]
async fn tls_with_a_custom_ca_default_roots_and_insecure() {
    let tls_server::Fixture { url, ca_pem, .. } = tls_server::start(false).await;
    let dir = tempfile::tempdir().unwrap();
    let ca_path = dir.path().join("ca.pem");
    std::fs::write(&ca_path, ca_pem).unwrap();
    let make = |tls: TlsConfig| {
        let mut c = UpstreamConfig::from_urls(&url).unwrap();
        c.health.interval = Duration::ZERO;
        c.tls = tls;
        Upstream::new(c).unwrap()
    };

    let gw = make(TlsConfig {
        ca: Some(ca_path.clone()),
        ..Default::default()
    });
    let (status, body) = support::call(&gw, get("/")).await.unwrap();
    assert_eq!((status, body), (200, serde_json::json!({})));

    let gw = make(TlsConfig::default());
    let err = support::call(&gw, get("/")).await.unwrap_err();
    assert_eq!(err.status, 502, "{err:?}");
    let cause = err.extra["cause"].as_str().unwrap();
    assert!(cause.contains("certificate"), "{cause}");

    let gw = make(TlsConfig {
        insecure: true,
        ..Default::default()
    });
    let (status, _) = support::call(&gw, get("/")).await.unwrap();
    assert_eq!(status, 200);
}

#[tokio::test]
async fn mutual_tls_with_a_client_certificate() {
    let f = tls_server::start(true).await;
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, pem: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, pem).unwrap();
        p
    };
    let ca = write("ca.pem", &f.ca_pem);
    let cert = write("client.pem", &f.client_cert_pem);
    let key = write("client.key", &f.client_key_pem);
    let make = |tls: TlsConfig| {
        let mut c = UpstreamConfig::from_urls(&f.url).unwrap();
        c.health.interval = Duration::ZERO;
        c.tls = tls;
        Upstream::new(c).unwrap()
    };

    let gw = make(TlsConfig {
        ca: Some(ca.clone()),
        cert: Some(cert.clone()),
        key: Some(key.clone()),
        insecure: false,
    });
    let (status, _) = support::call(&gw, get("/")).await.unwrap();
    assert_eq!(status, 200);

    // without the client certificate the server refuses the handshake
    let gw = make(TlsConfig {
        ca: Some(ca.clone()),
        ..Default::default()
    });
    let err = support::call(&gw, get("/")).await.unwrap_err();
    assert_eq!(err.status, 502, "{err:?}");

    // a key that is not a key is a start-up error naming the file
    let mut c = UpstreamConfig::from_urls(&f.url).unwrap();
    c.tls = TlsConfig {
        ca: Some(ca),
        cert: Some(cert),
        key: Some(write("bad.key", "nope")),
        insecure: false,
    };
    let e = Upstream::new(c).unwrap_err().to_string();
    assert!(e.starts_with("cannot use client key file ["), "{e}");
}
