//! Criterion benchmarks of the hot paths: parsing and formatting a message, sanitizing,
//! the store's update over a burst of 10 000 events, and drawing a 200x50 frame with
//! 100 000 messages in the log (the cost must not grow with the history).

use std::hint::black_box;

use brigade::event::{Event, NetEvent};
use brigade::protocol::{Parsed, header, parse_message, sanitize_text, split_for_wire};
use brigade::store::{State, update};
use chrono::{TimeZone, Utc};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const WIRE: &[u8] =
    b"10.213.8.143:8080 Team_Subhra are you coming to the lab at five? I can bring the router";

fn received(n: usize) -> Vec<Event> {
    (0..n)
        .map(|i| {
            let raw = format!(
                "10.0.{}.{}:8080 T{} message number {i} with some words in it",
                i % 7,
                i % 50,
                i % 50
            );
            let Parsed::Message(message) = parse_message(raw.as_bytes()) else {
                unreachable!()
            };
            let from = format!("10.0.{}.{}:40000", i % 7, i % 50).parse().unwrap();
            Event::net(
                Utc.timestamp_opt(1_780_000_000 + i as i64, 0).unwrap(),
                NetEvent::Received {
                    from,
                    message,
                    sealed: false,
                },
            )
        })
        .collect()
}

fn protocol(c: &mut Criterion) {
    c.bench_function("parse a classic message", |b| {
        b.iter(|| parse_message(black_box(WIRE)))
    });
    let h = header("10.206.7.5".parse().unwrap(), 9991, "A");
    let text = "are you coming to the lab at five? I can bring the router";
    c.bench_function("format a message", |b| {
        b.iter(|| split_for_wire(black_box(&h), black_box(text), 1024))
    });
    let long = "word ".repeat(1000);
    c.bench_function("format and split a 5000-byte message", |b| {
        b.iter(|| split_for_wire(black_box(&h), black_box(&long), 1024))
    });
    let hostile = "\x1b[31mred\x1b]0;title\x07 \u{202e}bidi\u{200b} ok ".repeat(20);
    c.bench_function("sanitize 1 KB of hostile text", |b| {
        b.iter(|| sanitize_text(black_box(&hostile)))
    });
    let plain = "plain text without anything odd in it at all ".repeat(20);
    c.bench_function("sanitize 1 KB of plain text", |b| {
        b.iter(|| sanitize_text(black_box(&plain)))
    });
}

fn store(c: &mut Criterion) {
    let events = received(10_000);
    c.bench_function("store: update over 10 000 received messages", |b| {
        b.iter_batched(
            || {
                (
                    State::new("A", "10.206.7.5".parse().unwrap()),
                    events.clone(),
                )
            },
            |(mut state, events)| {
                for e in events {
                    black_box(update(&mut state, e));
                }
                state
            },
            BatchSize::LargeInput,
        )
    });
}

fn render(c: &mut Criterion) {
    let mut state = State::new("A", "10.206.7.5".parse().unwrap());
    for e in received(100_000) {
        update(&mut state, e);
    }
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).unwrap();
    c.bench_function("render a 200x50 frame, 100 000 messages in the log", |b| {
        b.iter(|| {
            terminal
                .draw(|f| brigade::ui::render(f, &state, brigade::ui::Theme::COLOR, ""))
                .unwrap();
        })
    });
    let mut small = State::new("A", "10.206.7.5".parse().unwrap());
    for e in received(100) {
        update(&mut small, e);
    }
    c.bench_function("render a 200x50 frame, 100 messages in the log", |b| {
        b.iter(|| {
            terminal
                .draw(|f| brigade::ui::render(f, &small, brigade::ui::Theme::COLOR, ""))
                .unwrap();
        })
    });
}

criterion_group!(benches, protocol, store, render);
criterion_main!(benches);
