//! Sessions, CSRF tokens and the sign-in attempt limit: all in memory, because a restart of
//! the server only means signing in again, and nothing here needs to survive it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use subtle::ConstantTimeEq;

/// Who a session belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// A reporting unit, by its `respondent_id`.
    Unit(String),
    Coordinator,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub who: Who,
    /// The synchronizer token every form of this session carries in a hidden input.
    pub csrf: String,
    created: Instant,
    last_seen: Instant,
}

impl Session {
    /// Constant-time comparison of a submitted form token with this session's.
    pub fn csrf_matches(&self, submitted: &str) -> bool {
        let a = self.csrf.as_bytes();
        let b = submitted.as_bytes();
        a.len() == b.len() && bool::from(a.ct_eq(b))
    }
}

/// 256 random bits as 64 hex digits (session ids, CSRF tokens).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    // getrandom fails only where the OS has no random source at all; a server without one
    // must not hand out guessable session ids, so this is fatal.
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The live sessions, by session id (the cookie's value).
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
    /// A session ends this long after its last request…
    idle: Duration,
    /// …and this long after sign-in in any case.
    absolute: Duration,
}

impl Sessions {
    pub fn new(idle: Duration, absolute: Duration) -> Sessions {
        Sessions {
            map: Mutex::new(HashMap::new()),
            idle,
            absolute,
        }
    }

    /// Starts a session; returns its id.
    pub fn start(&self, who: Who) -> String {
        self.start_at(who, Instant::now())
    }

    fn start_at(&self, who: Who, now: Instant) -> String {
        let id = random_token();
        let session = Session {
            who,
            csrf: random_token(),
            created: now,
            last_seen: now,
        };
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        // Drop expired sessions now and then, so the map does not grow without bound.
        if map.len() % 64 == 63 {
            map.retain(|_, s| !self.expired(s, now));
        }
        map.insert(id.clone(), session);
        id
    }

    /// The live session with this id, if any (and marks it as seen).
    pub fn get(&self, id: &str) -> Option<Session> {
        self.get_at(id, Instant::now())
    }

    fn get_at(&self, id: &str, now: Instant) -> Option<Session> {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let s = map.get_mut(id)?;
        if self.expired(s, now) {
            map.remove(id);
            return None;
        }
        s.last_seen = now;
        Some(s.clone())
    }

    pub fn end(&self, id: &str) {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }

    fn expired(&self, s: &Session, now: Instant) -> bool {
        now.duration_since(s.last_seen) > self.idle || now.duration_since(s.created) > self.absolute
    }
}

/// Limits failed sign-in attempts per client address: after `max_failures` failures within
/// `window`, every attempt from that address (right or wrong) gets 429 until the window has
/// passed. Successful sign-ins are not limited, so 200 units behind one proxy can sign in at
/// once; guessing a 128-bit token is hopeless anyway, this stops the noise.
pub struct SignInLimit {
    map: Mutex<HashMap<IpAddr, (u32, Instant)>>,
    max_failures: u32,
    window: Duration,
}

impl SignInLimit {
    pub fn new(max_failures: u32, window: Duration) -> SignInLimit {
        SignInLimit {
            map: Mutex::new(HashMap::new()),
            max_failures,
            window,
        }
    }

    /// `Some(seconds to wait)` when this address may not try now.
    pub fn blocked(&self, ip: IpAddr) -> Option<u64> {
        self.blocked_at(ip, Instant::now())
    }

    fn blocked_at(&self, ip: IpAddr, now: Instant) -> Option<u64> {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let (failures, since) = map.get(&ip)?;
        let elapsed = now.duration_since(*since);
        if *failures >= self.max_failures && elapsed < self.window {
            Some((self.window - elapsed).as_secs().max(1))
        } else {
            None
        }
    }

    pub fn failed(&self, ip: IpAddr) {
        self.failed_at(ip, Instant::now())
    }

    fn failed_at(&self, ip: IpAddr, now: Instant) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, (_, since)| now.duration_since(*since) < self.window);
        }
        let entry = map.entry(ip).or_insert((0, now));
        if now.duration_since(entry.1) >= self.window {
            *entry = (0, now);
        }
        entry.0 += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_expire_when_idle_and_after_the_absolute_limit() {
        let s = Sessions::new(Duration::from_secs(60), Duration::from_secs(300));
        let t0 = Instant::now();
        let id = s.start_at(Who::Coordinator, t0);
        assert!(s.get_at(&id, t0 + Duration::from_secs(50)).is_some());
        // Seen at 50 s, so still alive at 100 s; then idle for more than 60 s.
        assert!(s.get_at(&id, t0 + Duration::from_secs(100)).is_some());
        assert!(s.get_at(&id, t0 + Duration::from_secs(161)).is_none());
        // Gone for good once expired.
        assert!(s.get_at(&id, t0 + Duration::from_secs(162)).is_none());

        let id = s.start_at(Who::Unit("r1".into()), t0);
        for i in 1..=5 {
            assert!(s.get_at(&id, t0 + Duration::from_secs(i * 59)).is_some());
        }
        assert!(s.get_at(&id, t0 + Duration::from_secs(301)).is_none());
        assert!(s.get("not a session").is_none());
    }

    #[test]
    fn csrf_tokens_compare_exactly() {
        let s = Sessions::new(Duration::from_secs(60), Duration::from_secs(60));
        let id = s.start(Who::Coordinator);
        let session = s.get(&id).unwrap();
        assert!(session.csrf_matches(&session.csrf.clone()));
        assert!(!session.csrf_matches(""));
        assert!(!session.csrf_matches(&session.csrf[1..]));
        let mut wrong = session.csrf.clone().into_bytes();
        wrong[10] = if wrong[10] == b'a' { b'b' } else { b'a' };
        assert!(!session.csrf_matches(std::str::from_utf8(&wrong).unwrap()));
        assert_ne!(random_token(), random_token());
        assert_eq!(random_token().len(), 64);
    }

    #[test]
    fn failed_sign_ins_block_an_address_for_the_window() {
        let limit = SignInLimit::new(3, Duration::from_secs(60));
        let (a, b): (IpAddr, IpAddr) = ("127.0.0.1".parse().unwrap(), "10.0.0.1".parse().unwrap());
        let t0 = Instant::now();
        for _ in 0..2 {
            limit.failed_at(a, t0);
        }
        assert_eq!(limit.blocked_at(a, t0), None);
        limit.failed_at(a, t0);
        assert_eq!(limit.blocked_at(a, t0 + Duration::from_secs(10)), Some(50));
        assert_eq!(limit.blocked_at(b, t0), None);
        assert_eq!(limit.blocked_at(a, t0 + Duration::from_secs(61)), None);
        // A new window starts from zero.
        limit.failed_at(a, t0 + Duration::from_secs(61));
        assert_eq!(limit.blocked_at(a, t0 + Duration::from_secs(61)), None);
    }
}
