//! The packers the echo examples take by name (`--packer`), shared by the
//! echo server and the echo client.

use std::sync::Arc;

use sente::packer::{EdnPacker, Packer};

/// The packer of that name, when its feature is built in.
macro_rules! feature_packer {
    ($feature:literal, $make:expr) => {{
        #[cfg(feature = $feature)]
        let packer: Result<Arc<dyn Packer>, String> = Ok(Arc::new($make));
        #[cfg(not(feature = $feature))]
        let packer: Result<Arc<dyn Packer>, String> = Err(format!(
            "the {} packer needs `--features {}`",
            $feature, $feature
        ));
        packer
    }};
}

/// The packer called `name` (edn, transit, json, msgpack, bincode).
pub(crate) fn packer(name: &str) -> Result<Arc<dyn Packer>, String> {
    match name {
        "edn" => Ok(Arc::new(EdnPacker::new())),
        "transit" => feature_packer!("transit", sente::packer::TransitPacker::new()),
        "json" => feature_packer!("json", sente::packer::JsonPacker::new()),
        "msgpack" => feature_packer!("msgpack", sente::packer::MsgpackPacker::new()),
        "bincode" => feature_packer!("bincode", sente::packer::BincodePacker::new()),
        other => Err(format!("unknown packer {other}")),
    }
}
