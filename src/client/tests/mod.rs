//! Deterministic tests of the client core with a virtual clock and a fixed seed:
//! the harness, and one file per area.

mod ajax;
mod lifecycle;
mod misc;
mod send;

use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

use super::*;
use crate::edn;
use crate::event::Event;
use crate::packer::{EdnPacker, Packed, PackedRef};
use crate::value::Value;

const SEED: u64 = 0x5e47e;
const WALL_MS: u64 = 1_700_000_000_000;
const HANDSHAKE: &str = r#"[[:chsk/handshake ["alice" nil {:x 1}]] nil]"#;

struct Sim {
    core: ClientCore,
    now: Instant,
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn v(text: &str) -> Value {
    edn::from_str(text).unwrap()
}

fn ev(text: &str) -> Event {
    Event::from_value(v(text)).unwrap()
}

fn text(p: &Packed) -> String {
    match p {
        Packed::Text(s) => s.clone(),
        Packed::Binary(_) => panic!("binary"),
    }
}

fn config(chsk_type: ChskType) -> ClientConfig {
    ClientConfig {
        chsk_type,
        client_id: "cid-1".into(),
        rng_seed: Some(SEED),
        ..ClientConfig::default()
    }
}

impl Sim {
    fn new(config: ClientConfig) -> Self {
        let now = Instant::now();
        let wall = UNIX_EPOCH + ms(WALL_MS);
        Self {
            core: ClientCore::new(config, Arc::new(EdnPacker::new()), now, wall).unwrap(),
            now,
        }
    }

    fn of(chsk_type: ChskType) -> Self {
        Self::new(config(chsk_type))
    }

    /// Moves the virtual clock forward, firing every deadline on the way.
    fn advance(&mut self, d: Duration) {
        let target = self.now + d;
        while let Some(at) = self.core.poll_timeout() {
            if at > target {
                break;
            }
            self.now = self.now.max(at);
            self.core.handle_timeout(self.now);
        }
        self.now = target;
    }

    fn drain(&mut self) -> Vec<Output> {
        std::iter::from_fn(|| self.core.poll_output()).collect()
    }

    fn udt(&self) -> i64 {
        self.core.udt(self.now)
    }

    fn msg(&mut self, socket: SocketId, s: &str) {
        self.core.ws_message(self.now, socket, PackedRef::Text(s));
    }

    fn close(&mut self, socket: SocketId, code: u16, clean: bool) {
        self.core.ws_closed(self.now, socket, code, "", clean);
    }

    /// Connects and returns the first socket.
    fn connect_ws(&mut self) -> SocketId {
        self.core.connect(self.now);
        only_socket(&self.drain())
    }

    /// Connects, handshakes, and returns the open socket.
    fn open_ws(&mut self) -> SocketId {
        let s = self.connect_ws();
        self.msg(s, HANDSHAKE);
        self.drain();
        assert!(self.core.state().open);
        s
    }

    fn poll_done(&mut self, r: RequestId, result: Result<&str, AjaxError>) {
        self.core
            .ajax_poll_done(self.now, r, result.map(PackedRef::Text));
    }

    fn post_done(&mut self, r: RequestId, result: Result<&str, AjaxError>) {
        self.core
            .ajax_post_done(self.now, r, result.map(PackedRef::Text));
    }

    /// An Ajax client that has handshaken; returns the held poll.
    fn open_ajax(&mut self) -> RequestId {
        self.core.connect(self.now);
        let r = only_poll(&self.drain()).0;
        self.poll_done(r, Ok(HANDSHAKE));
        let r = only_poll(&self.drain()).0;
        assert!(self.core.state().open);
        r
    }
}

fn sockets(out: &[Output]) -> Vec<SocketId> {
    out.iter()
        .filter_map(|o| match o {
            Output::ConnectWs { socket } => Some(*socket),
            _ => None,
        })
        .collect()
}

fn only_socket(out: &[Output]) -> SocketId {
    match sockets(out)[..] {
        [s] => s,
        _ => panic!("expected one ConnectWs in {out:?}"),
    }
}

fn frames(out: &[Output]) -> Vec<String> {
    out.iter()
        .filter_map(|o| match o {
            Output::Transmit { payload, .. } => Some(text(payload)),
            _ => None,
        })
        .collect()
}

fn events(out: &[Output]) -> Vec<String> {
    out.iter()
        .filter_map(|o| match o {
            Output::Event(e) => Some(e.to_string()),
            _ => None,
        })
        .collect()
}

fn changes(out: &[Output]) -> Vec<StateChange> {
    out.iter()
        .filter_map(|o| match o {
            Output::StateChanged(c) => Some((**c).clone()),
            _ => None,
        })
        .collect()
}

fn replies(out: &[Output]) -> Vec<(CallbackId, Result<Value, CallbackError>)> {
    out.iter()
        .filter_map(|o| match o {
            Output::Reply { id, result } => Some((*id, result.clone())),
            _ => None,
        })
        .collect()
}

fn polls(out: &[Output]) -> Vec<(RequestId, bool)> {
    out.iter()
        .filter_map(|o| match o {
            Output::AjaxPoll {
                request, handshake, ..
            } => Some((*request, *handshake)),
            _ => None,
        })
        .collect()
}

fn only_poll(out: &[Output]) -> (RequestId, bool) {
    match polls(out)[..] {
        [p] => p,
        _ => panic!("expected one AjaxPoll in {out:?}"),
    }
}

fn posts(out: &[Output]) -> Vec<(RequestId, String, Duration)> {
    out.iter()
        .filter_map(|o| match o {
            Output::AjaxPost {
                request,
                payload,
                timeout,
                ..
            } => Some((*request, text(payload), *timeout)),
            _ => None,
        })
        .collect()
}

fn closes(out: &[Output]) -> Vec<(SocketId, u16, &'static str)> {
    out.iter()
        .filter_map(|o| match o {
            Output::CloseWs {
                socket,
                code,
                reason,
            } => Some((*socket, *code, *reason)),
            _ => None,
        })
        .collect()
}

fn aborts(out: &[Output]) -> Vec<RequestId> {
    out.iter()
        .filter_map(|o| match o {
            Output::AbortAjax { request } => Some(*request),
            _ => None,
        })
        .collect()
}

/// The callback id of a client frame `[ev "cb"]`.
fn cb_of(frame: &str) -> String {
    v(frame).as_seq().unwrap()[1].as_str().unwrap().to_owned()
}

fn last_close(s: &Sim) -> Option<CloseReason> {
    s.core.state().last_close.map(|c| c.reason)
}
