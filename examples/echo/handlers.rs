//! The echo handlers, shared by the echo server example and the tests.

use sente::server::{AllowedOrigins, CsrfCheck, SendOptions, ServerEventMsg, ServerOptions};
use sente::{Event, Value};

/// The echo server's options: CSRF skipped, all origins, uid = `uid` param or the client id.
///
/// **Not for production**: the user id comes from a query parameter the
/// client chooses, so anyone can connect, poll and be pushed to as anyone.
/// It is a test server. A real server derives the uid from its own session
/// (see SECURITY.md: `user_id_fn` reading a `SessionUid` that your session
/// middleware put in the request).
pub(crate) fn options() -> ServerOptions {
    ServerOptions::default()
        .csrf(CsrfCheck::Skip)
        .allowed_origins(AllowedOrigins::All)
        .user_id_fn(|req| Some(Value::from(req.param("uid").unwrap_or(&req.client_id))))
}

fn pushed(x: &Value) -> Event {
    Event::from_static("echo/pushed", x.clone())
}

/// Answers one event as the echo server does.
pub(crate) fn handle(msg: ServerEventMsg) {
    let Some(chsk) = msg.server() else {
        return; // the server is gone
    };
    let data = msg.data();
    let result = match msg.id().as_str() {
        "echo/echo" => msg.reply(data.clone()),
        "echo/push" | "echo/push-flush" => {
            let flush = msg.id().as_str() == "echo/push-flush";
            let _ = chsk.send(msg.uid(), pushed(data), SendOptions { flush });
            msg.reply(Value::keyword("ok"))
        }
        "echo/uids" => {
            let u = chsk.connected_uids();
            msg.reply(Value::map([
                (Value::keyword("ws"), Value::from(u.ws.len() as i64)),
                (Value::keyword("ajax"), Value::from(u.ajax.len() as i64)),
                (Value::keyword("any"), Value::from(u.any.len() as i64)),
            ]))
        }
        "echo/broadcast" => {
            // Every connected user, each distinct batch packed once.
            let reached = chsk
                .broadcast(pushed(data), SendOptions::default())
                .unwrap_or(0);
            msg.reply(Value::from(reached as i64))
        }
        "echo/tab" => {
            // To the sender's own tab only.
            let sent = chsk.send_to_client(msg.uid(), msg.client_id(), pushed(data));
            msg.reply(Value::from(sent.unwrap_or(false)))
        }
        _ => Ok(false),
    };
    if let Err(e) = result {
        eprintln!("reply failed: {e}");
    }
}
