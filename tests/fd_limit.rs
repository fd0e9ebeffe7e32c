//! Running out of file descriptors must not stop the server: under a
//! 64-descriptor limit, a burst of connections makes `accept` fail with
//! EMFILE; the server pauses, retries, and serves again once they close.
//!
//! The limit is set for a child process only (this test binary run again
//! with `ulimit -n`), so the other tests keep theirs.

#![cfg(all(feature = "smol", feature = "edn", target_os = "linux"))]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHILD_ENV: &str = "SENTE_FD_LIMIT_CHILD";
const DEADLINE: Duration = Duration::from_secs(20);

/// The server side: run only as the child of `serves_again_after_running_out_of_descriptors`.
#[test]
#[ignore = "run by serves_again_after_running_out_of_descriptors in a child process"]
fn child_server() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    use sente::packer::EdnPacker;
    use sente::runtimes::smol::{self as chsk_smol, SmolRuntime};
    use sente::server::{ChannelSocketServer, CsrfCheck, ServerOptions};
    smol::block_on(async {
        let opts = ServerOptions::default().csrf(CsrfCheck::Skip);
        let (chsk, events) =
            ChannelSocketServer::new(SmolRuntime, EdnPacker::new(), opts).expect("options");
        smol::spawn(async move { while events.recv().await.is_ok() {} }).detach();
        let listener = smol::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        println!("PORT {}", listener.local_addr().expect("addr").port());
        let result = chsk_smol::serve(listener, move |req| {
            let chsk = chsk.clone();
            async move { chsk_smol::handle(&chsk, req).await }
        })
        .await;
        println!("SERVE ENDED {result:?}");
        std::process::exit(3);
    });
}

fn handshake(addr: SocketAddr) -> std::io::Result<String> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(2)))?;
    s.write_all(b"GET /chsk?client-id=fd-probe&handshake%3F=true HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

#[test]
fn serves_again_after_running_out_of_descriptors() {
    let exe = std::env::current_exe().expect("test binary");
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -n 64 && exec "$0" "$@""#)
        .arg(exe)
        .args([
            "child_server",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the child server");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let port: u16 = loop {
        let line = lines.next().expect("the child's port").expect("a line");
        // libtest may print "test child_server ... " on the same line.
        if let Some(at) = line.find("PORT ") {
            break line[at + 5..].trim().parse().expect("a port");
        }
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    // Far more connections than descriptors: the kernel queues them, the
    // server accepts until EMFILE.
    let mut held = Vec::new();
    for _ in 0..120 {
        match TcpStream::connect(addr) {
            Ok(s) => held.push(s),
            Err(_) => break,
        }
    }
    assert!(held.len() > 64, "only {} connections were made", held.len());
    // Wait until the server has hit its limit: a request now gets no answer.
    let deadline = Instant::now() + DEADLINE;
    while handshake(addr).is_ok_and(|r| r.starts_with("HTTP/1.1 200")) {
        assert!(
            Instant::now() < deadline,
            "the server never ran out of descriptors"
        );
    }
    assert!(
        child.try_wait().expect("wait").is_none(),
        "the server exited"
    );
    drop(held);
    // The server serves again once the connections are gone.
    let deadline = Instant::now() + DEADLINE;
    let answer = loop {
        if let Ok(r) = handshake(addr)
            && r.starts_with("HTTP/1.1 200")
        {
            break r;
        }
        if let Some(status) = child.try_wait().expect("wait") {
            let rest: Vec<String> = lines.map_while(Result::ok).collect();
            panic!("the server exited ({status}): {rest:?}");
        }
        assert!(Instant::now() < deadline, "the server did not serve again");
    };
    assert!(answer.contains(":chsk/handshake"), "{answer}");
    let _ = child.kill();
    let _ = child.wait();
}
