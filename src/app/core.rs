//! The store and the node together: apply an event, run the network effects, hand the
//! rest (notices, bell, quit) to the front end. Shared by the TUI and headless modes.

use std::collections::VecDeque;
use std::net::IpAddr;

use chrono::Utc;
use tokio::sync::mpsc;

use crate::config::PeerSpec;
use crate::event::{Action, Delivery, Effect, Event, NetEvent, Target};
use crate::net::{Identity, Limits, NetMsg, Node, NodeConfig, RetryPolicy};
use crate::protocol::CONNECT_TEXT;
use crate::store::{State, update};

pub struct Core {
    pub state: State,
    pub node: Node,
    pub events: mpsc::Receiver<NetMsg>,
}

impl Core {
    /// Starts the node on a bound listener.
    pub fn start(
        listener: tokio::net::TcpListener,
        team: &str,
        advertise_ip: IpAddr,
        limits: Limits,
        retry: RetryPolicy,
    ) -> std::io::Result<Core> {
        let config = NodeConfig {
            identity: Identity {
                advertise_ip,
                team: team.to_string(),
            },
            limits,
            retry,
        };
        let (node, events) = Node::start(listener, config)?;
        Ok(Core {
            state: State::new(team, advertise_ip),
            node,
            events,
        })
    }

    /// Applies an event; sends what must be sent (a message the node cannot queue is
    /// reported failed, never dropped); returns the effects left for the front end.
    pub fn apply(&mut self, event: Event) -> Vec<Effect> {
        let mut queue = VecDeque::from([event]);
        let mut rest = Vec::new();
        while let Some(event) = queue.pop_front() {
            let at = event.at;
            for effect in update(&mut self.state, event) {
                match effect {
                    Effect::Send { id, to, text } => {
                        if let Err(reason) = self.node.send(id, to, text) {
                            let status = Delivery::Failed { reason };
                            queue.push_back(Event::net(at, NetEvent::Delivery { id, to, status }));
                        }
                    }
                    other => rest.push(other),
                }
            }
        }
        rest
    }

    pub fn act(&mut self, action: Action) -> Vec<Effect> {
        self.apply(Event::action(Utc::now(), action))
    }

    /// Applies a message from the node, then acknowledges it: its sender sees the close.
    pub fn on_net(&mut self, msg: NetMsg) -> Vec<Effect> {
        let effects = self.apply(Event::net(Utc::now(), msg.event));
        if let Some(receipt) = msg.receipt {
            receipt.ack(true);
        }
        effects
    }

    /// Greets the well-known peers, as the original did at start-up.
    pub fn greet(&mut self, peers: &[PeerSpec]) -> Vec<Effect> {
        let mut effects = Vec::new();
        for p in peers {
            effects.extend(self.act(Action::Send {
                to: Target::Addr {
                    addr: p.addr,
                    team: p.team.clone(),
                },
                text: CONNECT_TEXT.into(),
            }));
        }
        effects
    }
}
