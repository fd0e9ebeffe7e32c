//! The native client over TLS (`wss://`, `https://`) against a local TLS
//! server whose certificate is made here: WebSocket, Ajax and auto sessions
//! on the smol and tokio transports; an untrusted certificate and one for
//! another name are clear errors, at once, not hangs.
//!
//! The TLS server is the smol echo server behind a TLS-terminating front
//! (futures-rustls), both on 127.0.0.1:0.
#![cfg(all(feature = "tls", feature = "smol", feature = "edn"))]

#[path = "server/harness.rs"]
mod harness;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::AsyncReadExt as _;
use futures_util::future::select;
use harness::{Backend, start_echo, within};
use rustls::RootCertStore;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sente::client::{
    AjaxError, AjaxRequest, ChannelSocketClient, ChskType, ClientConfig, ClientOptions,
    ClientTransport, WsRequest,
};
use sente::packer::EdnPacker;
use sente::runtimes::smol::{SmolClientTransport, SmolRuntime};
use sente::{Event, Value};

/// A certificate for `names` (its own issuer) and its key.
fn certificate(names: &[&str]) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let made = rcgen::generate_simple_self_signed(names).expect("a certificate");
    let key = PrivatePkcs8KeyDer::from(made.signing_key.serialize_der());
    (made.cert.der().clone(), key.into())
}

/// Roots trusting exactly `cert`.
fn roots(cert: &CertificateDer<'static>) -> RootCertStore {
    let mut roots = RootCertStore::empty();
    roots.add(cert.clone()).expect("a root");
    roots
}

/// A TLS front on 127.0.0.1:0 for the plain server at `backend`, with this
/// certificate: each TLS connection is relayed to a TCP one.
async fn tls_front(
    backend: SocketAddr,
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
) -> SocketAddr {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .expect("a server config");
    let acceptor = futures_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = smol::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    smol::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            smol::spawn(async move {
                // A refused handshake (the wrong-certificate tests) ends here.
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(plain) = smol::net::TcpStream::connect(backend).await else {
                    return;
                };
                let (tls_read, mut tls_write) = tls.split();
                let (plain_read, mut plain_write) = (plain.clone(), plain);
                let up = futures_util::io::copy(tls_read, &mut plain_write);
                let down = futures_util::io::copy(plain_read, &mut tls_write);
                // Either side ending ends the relay.
                let _ = select(Box::pin(up), Box::pin(down)).await;
            })
            .detach();
        }
    })
    .detach();
    addr
}

/// The echo server behind a TLS front with a certificate for 127.0.0.1;
/// returns the front's address and the roots that trust it.
async fn tls_echo() -> (SocketAddr, RootCertStore) {
    let server = start_echo(Backend::Smol, |o| o.lp_timeout(Duration::from_secs(2))).await;
    let (cert, key) = certificate(&["127.0.0.1", "localhost"]);
    let trusted = roots(&cert);
    (tls_front(server.addr, cert, key).await, trusted)
}

fn fast_config(chsk_type: ChskType) -> ClientConfig {
    ClientConfig::default()
        .chsk_type(chsk_type)
        .ajax_timeout(Duration::from_secs(5))
        .backoff(|_, _| Duration::from_millis(50))
}

/// A session on `transport` over `https://addr`: handshake, then an echo.
async fn session(
    runtime: Arc<dyn sente::runtime::Runtime>,
    transport: Arc<dyn ClientTransport>,
    addr: SocketAddr,
    chsk_type: ChskType,
) {
    let opts = ClientOptions::new(&format!("https://{addr}/chsk"))
        .expect("a URL")
        .config(fast_config(chsk_type));
    let (client, events) = ChannelSocketClient::new(runtime, EdnPacker::new(), transport, opts)
        .expect("valid options");
    client.connect();
    within("the handshake over TLS", async {
        while let Ok(msg) = events.recv().await {
            if msg.id().as_str() == "chsk/handshake" {
                return;
            }
        }
        panic!("the client ended");
    })
    .await;
    let expected = match chsk_type {
        ChskType::Ajax => ChskType::Ajax,
        ChskType::Ws | ChskType::Auto => ChskType::Ws,
    };
    assert_eq!(client.state().chsk_type, expected);
    let hello = Event::named("echo/echo", "over tls").expect("an event");
    let reply = within(
        "an echo over TLS",
        client.send_with_reply(&hello, Duration::from_secs(5)),
    )
    .await;
    assert_eq!(reply, Ok(Value::from("over tls")), "{chsk_type:?}");
    client.disconnect();
}

#[test]
fn ws_ajax_and_auto_sessions_over_tls_on_smol() {
    smol::block_on(async {
        let (addr, trusted) = tls_echo().await;
        let transport = Arc::new(SmolClientTransport::new().with_tls_roots(trusted));
        for chsk_type in [ChskType::Ws, ChskType::Ajax, ChskType::Auto] {
            session(Arc::new(SmolRuntime), transport.clone(), addr, chsk_type).await;
        }
    });
}

#[cfg(feature = "tokio")]
#[test]
fn ws_ajax_and_auto_sessions_over_tls_on_tokio() {
    use sente::runtimes::tokio::{TokioClientTransport, TokioRuntime};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    // The server and its TLS front on smol; the client on tokio.
    let (addr, trusted) = smol::block_on(tls_echo());
    rt.block_on(async {
        let transport = Arc::new(TokioClientTransport::current().with_tls_roots(trusted));
        for chsk_type in [ChskType::Ws, ChskType::Ajax, ChskType::Auto] {
            session(
                Arc::new(TokioRuntime::current()),
                transport.clone(),
                addr,
                chsk_type,
            )
            .await;
        }
    });
}

fn ws_request(url: &str) -> WsRequest {
    WsRequest {
        request: http::Request::get(url).body(()).expect("a request"),
        max_message_size: 1 << 20,
        connect_timeout: Duration::from_secs(5),
    }
}

fn ajax_request(url: &str) -> AjaxRequest {
    AjaxRequest {
        request: http::Request::get(url).body(Vec::new()).expect("a request"),
        timeout: Duration::from_secs(5),
        max_response_size: 1 << 20,
    }
}

/// Both transports' errors for `url` with `transport`: `(ws, ajax)`.
async fn errors(transport: &SmolClientTransport, host_port: &str) -> (String, String) {
    let ws = match within(
        "the WebSocket's error",
        transport.connect_ws(ws_request(&format!("wss://{host_port}/chsk?client-id=t"))),
    )
    .await
    {
        Ok(_) => panic!("a WebSocket opened with a wrong certificate"),
        Err(e) => e.to_string(),
    };
    let ajax = match within(
        "the Ajax request's error",
        transport.ajax(ajax_request(&format!(
            "https://{host_port}/chsk?client-id=t&handshake%3F=1"
        ))),
    )
    .await
    {
        Err(AjaxError::Network(e)) => e,
        other => panic!("an Ajax request with a wrong certificate gave {other:?}"),
    };
    (ws, ajax)
}

#[test]
fn an_untrusted_certificate_is_a_clear_error() {
    smol::block_on(async {
        let (addr, _trusted) = tls_echo().await;
        // The platform's roots (the default) do not know the test's issuer.
        let (ws, ajax) = errors(&SmolClientTransport::new(), &addr.to_string()).await;
        for e in [&ws, &ajax] {
            assert!(
                e.contains("TLS handshake with 127.0.0.1 failed") && e.contains("UnknownIssuer")
                    || e.contains("no usable root certificates"),
                "{e}"
            );
        }
        // Other roots than the server's: the same.
        let (other, _) = certificate(&["127.0.0.1"]);
        let transport = SmolClientTransport::new().with_tls_roots(roots(&other));
        let (ws, ajax) = errors(&transport, &addr.to_string()).await;
        for e in [&ws, &ajax] {
            assert!(e.contains("TLS handshake with 127.0.0.1 failed"), "{e}");
            assert!(
                e.contains("UnknownIssuer") || e.contains("BadSignature"),
                "{e}"
            );
        }
        // And the whole client: a WebSocket error, never open, no hang.
        let opts = ClientOptions::new(&format!("wss://{addr}/chsk"))
            .expect("a URL")
            .config(fast_config(ChskType::Ws));
        let (client, _events) =
            ChannelSocketClient::new(SmolRuntime, EdnPacker::new(), Arc::new(transport), opts)
                .expect("valid options");
        let mut watch = client.watch_state();
        client.connect();
        within("a WebSocket error", async {
            while let Some(state) = watch.changed().await {
                if state.last_ws_error.is_some() {
                    return;
                }
            }
        })
        .await;
        assert!(!client.state().open && !client.state().ever_opened);
        client.disconnect();
    });
}

#[test]
fn a_certificate_for_another_name_is_a_clear_error() {
    smol::block_on(async {
        let server = start_echo(Backend::Smol, |o| o).await;
        let (cert, key) = certificate(&["other.example"]);
        let trusted = roots(&cert);
        let addr = tls_front(server.addr, cert, key).await;
        let transport = SmolClientTransport::new().with_tls_roots(trusted);
        let (ws, ajax) = errors(&transport, &addr.to_string()).await;
        for e in [&ws, &ajax] {
            assert!(e.contains("TLS handshake with 127.0.0.1 failed"), "{e}");
            assert!(
                e.contains("NotValidForName") || e.contains("not valid for name"),
                "{e}"
            );
        }
    });
}

#[test]
fn a_secure_url_on_a_plain_server_fails_at_once() {
    smol::block_on(async {
        let server = start_echo(Backend::Smol, |o| o).await;
        let (ws, ajax) = errors(&SmolClientTransport::new(), &server.addr.to_string()).await;
        for e in [&ws, &ajax] {
            assert!(e.contains("TLS handshake with 127.0.0.1 failed"), "{e}");
        }
    });
}
