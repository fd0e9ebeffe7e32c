//! The Rust EDN reader and printer agree with the JS client's on every EDN
//! message of sente-transcripts.md: both read each one and print it back
//! byte-identical (the JS side checks the same fixture in
//! js/test/edn.test.js).
#![cfg(feature = "edn")]

#[derive(serde::Deserialize)]
struct Message {
    #[serde(rename = "where")]
    place: String,
    edn: String,
}

#[test]
fn every_transcript_message_reads_and_prints_back_byte_identical() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/js/test/fixtures/transcript-messages.json"
    );
    let text = std::fs::read_to_string(path).expect("the shared fixture");
    let messages: Vec<Message> = serde_json::from_str(&text).expect("a JSON list");
    assert!(
        messages.len() >= 50,
        "the fixture lists the transcripts' messages"
    );
    for m in &messages {
        let value =
            sente::edn::from_str(&m.edn).unwrap_or_else(|e| panic!("{} ({}): {e}", m.edn, m.place));
        assert_eq!(
            sente::edn::to_string(&value).expect("prints"),
            m.edn,
            "({})",
            m.place
        );
    }
}
