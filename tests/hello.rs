//! The README's hello world, end to end: a server from
//! `ChannelSocketServer::builder()…build()` served by `runtimes::smol::listen`,
//! an `EventRouter` that replies and pushes, and a client from
//! `ChannelSocketClient::builder(url)…build()`.

#![cfg(all(feature = "smol", feature = "edn"))]

use std::time::Duration;

use sente::client::{ChannelSocketClient, ChskType};
use sente::router::EventRouter;
use sente::runtimes::smol::{SmolRuntime, listen};
use sente::server::{ChannelSocketServer, CsrfCheck, SendOptions, ServerEventMsg};
use sente::{Event, Value};
use smol::io::{AsyncReadExt, AsyncWriteExt};

#[derive(serde::Serialize, serde::Deserialize)]
struct Hello {
    name: String,
}

async fn within<T>(what: &str, fut: impl std::future::Future<Output = T>) -> T {
    let timeout = async {
        smol::Timer::after(Duration::from_secs(10)).await;
        panic!("timed out waiting for {what}");
    };
    smol::future::or(fut, timeout).await
}

/// A port free a moment ago (`listen` binds by address).
fn free_port() -> u16 {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    probe.local_addr().expect("an address").port()
}

async fn status_of(port: u16, path: &str) -> String {
    let mut tcp = smol::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.expect("write");
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).await.expect("read");
    answer.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn the_hello_world_replies_and_pushes_then_stops_at_shutdown() {
    smol::block_on(async {
        let (chsk, events) = ChannelSocketServer::builder()
            .csrf(CsrfCheck::Skip)
            .build()
            .expect("valid options");
        EventRouter::new()
            .on("app/hello", |msg: ServerEventMsg| async move {
                let hello: Hello = msg.data_as()?;
                msg.reply_with(&format!("hi {}", hello.name))?;
                if let Some(chsk) = msg.server() {
                    let news = Event::from_data("app/news", &hello)?;
                    chsk.send(msg.uid(), news, SendOptions::default())?;
                }
                Ok(())
            })
            .start(SmolRuntime, events);
        let port = free_port();
        let serving = smol::spawn({
            let chsk = chsk.clone();
            async move { listen(&chsk, ("127.0.0.1", port)).await }
        });

        let (client, events) =
            ChannelSocketClient::builder(&format!("http://127.0.0.1:{port}/chsk"))
                .expect("a URL")
                .chsk_type(ChskType::Ws)
                .backoff(|_, _| Duration::from_millis(20))
                .build()
                .expect("valid options");
        client.connect();
        within("the handshake", async {
            while let Ok(msg) = events.recv().await {
                if msg.id().as_str() == "chsk/handshake" {
                    break;
                }
            }
        })
        .await;
        let hello = Hello { name: "ann".into() };
        let hello = Event::from_data("app/hello", &hello).expect("converts");
        let reply = client.send_with_reply(&hello, Duration::from_secs(5)).await;
        assert_eq!(reply, Ok(Value::from("hi ann")));
        let news = within("the push", async {
            loop {
                let msg = events.recv().await.expect("the client's events");
                if msg.id().as_str() == "app/news" {
                    return msg;
                }
            }
        })
        .await;
        assert_eq!(news.data().to_string(), r#"{:name "ann"}"#);

        assert_eq!(
            status_of(port, "/elsewhere").await,
            "HTTP/1.1 404 Not Found"
        );
        client.disconnect();
        chsk.shutdown(Duration::from_millis(100)).await;
        within("listen to return", serving)
            .await
            .expect("listen ends without error");
    });
}

#[test]
fn listen_reports_an_address_it_cannot_bind() {
    smol::block_on(async {
        let (chsk, _events) = ChannelSocketServer::builder()
            .build()
            .expect("valid options");
        let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = taken.local_addr().expect("an address");
        assert!(listen(&chsk, addr).await.is_err());
    });
}

#[test]
fn a_bad_url_or_config_is_an_error_of_the_builders() {
    assert!(ChannelSocketClient::builder("ftp://127.0.0.1/chsk").is_err());
    let blank = ChannelSocketClient::builder("http://127.0.0.1:1/chsk")
        .expect("a URL")
        .client_id(" ")
        .build();
    assert!(blank.is_err());
    let too_long = ChannelSocketServer::builder()
        .lp_timeout(Duration::from_secs(60))
        .build();
    assert!(too_long.is_err());
}
