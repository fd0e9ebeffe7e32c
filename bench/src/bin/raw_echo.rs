//! The physical limit of our stack: a raw async-tungstenite echo server on
//! smol, no channel-socket layer. Same socket settings as sente's server
//! (TCP_NODELAY, 4 KiB read buffer). Prints `listening on 127.0.0.1:PORT`.

use async_tungstenite::tungstenite::protocol::WebSocketConfig;
use futures_util::StreamExt;

fn main() -> std::io::Result<()> {
    smol::block_on(async {
        let listener = smol::net::TcpListener::bind("127.0.0.1:0").await?;
        println!("listening on {}", listener.local_addr()?);
        loop {
            let (stream, _) = listener.accept().await?;
            let _ = stream.set_nodelay(true);
            smol::spawn(async move {
                let config = WebSocketConfig::default()
                    .read_buffer_size(4 * 1024)
                    .write_buffer_size(0);
                let Ok(ws) =
                    async_tungstenite::accept_async_with_config(stream, Some(config)).await
                else {
                    return;
                };
                let (mut tx, mut rx) = ws.split();
                while let Some(Ok(msg)) = rx.next().await {
                    if (msg.is_text() || msg.is_binary()) && tx.send(msg).await.is_err() {
                        break;
                    }
                }
            })
            .detach();
        }
    })
}
