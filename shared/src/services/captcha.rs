//! A slider captcha: a generated background with a square gap at a random x, and the piece
//! that fits it. The client slides the piece and sends its x; within a few pixels counts as
//! solved. A challenge id is issued first (the -1 answers carry it); each rendering of it
//! draws a new gap, and each answer spends the rendering, so a miss means fetching again.
//! Three misses void the challenge. A solved challenge is good for exactly one guarded request.
//! Sizes are seed 002's original's (310×160, a 50×50 piece, the piece's left edge in 20..240).

use super::Auth;
use crate::{
    sender::{Channel, Message},
    store::{Condition, Item, Key, StoreError, Write},
    Error, Result,
};
use base64::{engine::general_purpose::STANDARD, Engine};

pub const WIDTH: u32 = 310;
pub const HEIGHT: u32 = 160;
pub const PIECE: u32 = 50;
/// The leftmost and one past the rightmost x of the piece's left edge.
pub const X_RANGE: (u32, u32) = (20, 240);
pub const TOLERANCE: i64 = 3;
pub const TRIES: i64 = 3;
const TTL: i64 = 300;

/// One rendering of a challenge.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Challenge {
    pub id: String,
    /// PNG, base64 without a `data:` prefix: the background with the gap.
    pub background: String,
    /// PNG, base64: the piece, `PIECE` pixels square.
    pub piece: String,
    /// Where the piece sits vertically; the client only finds x.
    pub y: u32,
    pub width: u32,
    pub height: u32,
    pub piece_size: u32,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct State {
    /// The answer of the live rendering; `None` before the first and after each answer.
    #[serde(default)]
    x: Option<i64>,
    #[serde(default)]
    rendering: u64,
    solved: bool,
    tries_left: i64,
}

fn captcha_key(id: &str) -> Key {
    Key::new(format!("CAPTCHA#{id}"), "CAPTCHA")
}

impl Auth {
    /// Issues a challenge id, not yet rendered.
    pub(crate) async fn new_captcha_id(&self) -> Result<String> {
        let id = crate::random::id();
        let state = State {
            x: None,
            rendering: 0,
            solved: false,
            tries_left: TRIES,
        };
        // The expiry is the item's own (`expires_at`), not an attribute of the state.
        let item = Item::of(captcha_key(&id), &state, Some(self.now() + TTL));
        self.store().write(vec![Write::put_new(item)]).await?;
        Ok(id)
    }

    /// A new rendering of an issued, unsolved challenge (`CaptchaInvalid` for any other id).
    pub async fn render_captcha(&self, id: &str) -> Result<Challenge> {
        let key = captcha_key(id);
        let item = self.store().get(&key).await?.ok_or(Error::CaptchaInvalid)?;
        let state: State = item.parse()?;
        if state.solved {
            return Err(Error::CaptchaInvalid);
        }
        let x = crate::random::range(X_RANGE.0, X_RANGE.1);
        let y = crate::random::range(10, HEIGHT - PIECE - 10);
        let next = State {
            x: Some(i64::from(x)),
            rendering: state.rendering + 1,
            ..state.clone()
        };
        let write = Write::Put {
            item: Item::of(key, &next, item.expires_at),
            cond: Condition::equals("rendering", state.rendering),
        };
        match self.store().write(vec![write]).await {
            Ok(()) => {}
            Err(StoreError::ConditionFailed(_)) => return Err(Error::CaptchaInvalid),
            Err(e) => return Err(e.into()),
        }
        self.reveal_captcha(id, x).await;
        let (background, piece) = render(crate::random::u64(), x, y);
        Ok(Challenge {
            id: id.to_string(),
            background: STANDARD.encode(background),
            piece: STANDARD.encode(piece),
            y,
            width: WIDTH,
            height: HEIGHT,
            piece_size: PIECE,
        })
    }

    /// A rendering of the challenge named, or of a new one when none is named.
    pub async fn captcha(&self, id: Option<&str>) -> Result<Challenge> {
        let id = match id {
            Some(id) => id.to_string(),
            None => self.new_captcha_id().await?,
        };
        self.render_captcha(&id).await
    }

    /// In development the outbox gets each rendering's answer, so local clients can solve it.
    async fn reveal_captcha(&self, id: &str, x: u32) {
        if !self.config().is_dev() || !self.0.sender.reveals_captchas() {
            return;
        }
        let message = Message {
            channel: Channel::Captcha,
            to: id.to_string(),
            subject: "slider answer".into(),
            body: x.to_string(),
        };
        if let Err(e) = self.0.sender.send(&message).await {
            tracing::warn!(error = %e, "the outbox refused a slider answer");
        }
    }

    /// Checks a slider position against the live rendering, which the answer spends. Right:
    /// solved. A third miss voids the challenge.
    pub async fn verify_captcha(&self, id: &str, x: i64) -> Result<()> {
        let key = captcha_key(id);
        let item = self.store().get(&key).await?.ok_or(Error::CaptchaInvalid)?;
        let state: State = item.parse()?;
        let Some(answer) = state.x.filter(|_| !state.solved) else {
            return Err(Error::CaptchaInvalid);
        };
        let guard = Condition::equals("rendering", state.rendering);
        let right = x.abs_diff(answer) <= TOLERANCE.unsigned_abs();
        let write = if right {
            let solved = State {
                x: None,
                solved: true,
                ..state.clone()
            };
            Write::Put {
                item: Item::of(key, &solved, item.expires_at),
                cond: guard,
            }
        } else if state.tries_left <= 1 {
            Write::Delete { key, cond: guard }
        } else {
            let next = State {
                x: None,
                tries_left: state.tries_left - 1,
                ..state.clone()
            };
            Write::Put {
                item: Item::of(key, &next, item.expires_at),
                cond: guard,
            }
        };
        match self.store().write(vec![write]).await {
            Ok(()) if right => Ok(()),
            Ok(()) | Err(StoreError::ConditionFailed(_)) => Err(Error::CaptchaInvalid),
            Err(e) => Err(e.into()),
        }
    }

    /// Lets a request through on a solved captcha (spending it), or asks for a new one.
    pub(crate) async fn require_captcha(&self, solved: Option<&str>) -> Result<()> {
        if let Some(id) = solved.filter(|id| !id.is_empty()) {
            let spend = Write::Delete {
                key: captcha_key(id),
                cond: Condition::equals("solved", true),
            };
            match self.store().write(vec![spend]).await {
                Ok(()) => return Ok(()),
                Err(StoreError::ConditionFailed(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::CaptchaRequired {
            captcha_id: self.new_captcha_id().await?,
        })
    }
}

/// A small deterministic generator for the background texture (not for secrets).
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn render(seed: u64, gap_x: u32, gap_y: u32) -> (Vec<u8>, Vec<u8>) {
    let mut rng = XorShift(seed | 1);
    let base = [
        (rng.next() % 200) as u8,
        (rng.next() % 200) as u8,
        (rng.next() % 200) as u8,
    ];
    let blobs: Vec<(i64, i64, i64, [u8; 3])> = (0..12)
        .map(|_| {
            let c = [rng.next() as u8, rng.next() as u8, rng.next() as u8];
            (
                (rng.next() % WIDTH as u64) as i64,
                (rng.next() % HEIGHT as u64) as i64,
                10 + (rng.next() % 30) as i64,
                c,
            )
        })
        .collect();
    let mut img = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    for y in 0..HEIGHT {
        for x in 0..WIDTH {
            let mut px = [
                base[0].wrapping_add((x / 3) as u8),
                base[1].wrapping_add((y / 2) as u8),
                base[2].wrapping_add(((x + y) / 4) as u8),
            ];
            for (bx, by, r, c) in &blobs {
                let (dx, dy) = (x as i64 - bx, y as i64 - by);
                if dx * dx + dy * dy <= r * r {
                    px = *c;
                }
            }
            let i = ((y * WIDTH + x) * 3) as usize;
            img[i..i + 3].copy_from_slice(&px);
        }
    }
    let mut piece = vec![0u8; (PIECE * PIECE * 3) as usize];
    for y in 0..PIECE {
        for x in 0..PIECE {
            let src = (((gap_y + y) * WIDTH + gap_x + x) * 3) as usize;
            let dst = ((y * PIECE + x) * 3) as usize;
            let edge = x == 0 || y == 0 || x == PIECE - 1 || y == PIECE - 1;
            for k in 0..3 {
                piece[dst + k] = if edge { 255 } else { img[src + k] };
                img[src + k] /= 3;
            }
        }
    }
    (png(&img, WIDTH, HEIGHT), png(&piece, PIECE, PIECE))
}

fn png(rgb: &[u8], w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let written = enc
        .write_header()
        .and_then(|mut wr| wr.write_image_data(rgb));
    if let Err(e) = written {
        tracing::error!(error = %e, "captcha PNG encoding failed");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::testing::*;

    async fn answer(t: &Harness, id: &str) -> i64 {
        let item = t.store.get(&captcha_key(id)).await.unwrap().unwrap();
        item.parse::<State>().unwrap().x.unwrap()
    }

    #[tokio::test]
    async fn renders_png_images_with_the_gap_in_range() {
        let t = harness();
        let c = t.auth.captcha(None).await.unwrap();
        let bg = STANDARD.decode(&c.background).unwrap();
        assert_eq!(&bg[1..4], b"PNG");
        let decoder = png::Decoder::new(bg.as_slice());
        let info = decoder.read_info().unwrap().info().clone();
        assert_eq!((info.width, info.height), (WIDTH, HEIGHT));
        let piece = STANDARD.decode(&c.piece).unwrap();
        let info = png::Decoder::new(piece.as_slice())
            .read_info()
            .unwrap()
            .info()
            .clone();
        assert_eq!((info.width, info.height), (PIECE, PIECE));
        let x = answer(&t, &c.id).await;
        assert!((20..240).contains(&x), "{x}");
    }

    #[tokio::test]
    async fn solves_within_tolerance_once() {
        let t = harness();
        let c = t.auth.captcha(None).await.unwrap();
        let x = answer(&t, &c.id).await;
        t.auth.verify_captcha(&c.id, x + TOLERANCE).await.unwrap();
        assert_eq!(
            t.auth.verify_captcha(&c.id, x).await,
            Err(Error::CaptchaInvalid)
        );
        assert_eq!(
            t.auth.render_captcha(&c.id).await,
            Err(Error::CaptchaInvalid),
            "a solved challenge is not rendered again"
        );
        t.auth.require_captcha(Some(&c.id)).await.unwrap();
        assert!(matches!(
            t.auth.require_captcha(Some(&c.id)).await,
            Err(Error::CaptchaRequired { .. })
        ));
    }

    #[tokio::test]
    async fn a_miss_spends_the_rendering_and_three_void_the_challenge() {
        let t = harness();
        let c = t.auth.captcha(None).await.unwrap();
        let x = answer(&t, &c.id).await;
        assert_eq!(
            t.auth.verify_captcha(&c.id, x + TOLERANCE + 1).await,
            Err(Error::CaptchaInvalid)
        );
        assert_eq!(
            t.auth.verify_captcha(&c.id, x).await,
            Err(Error::CaptchaInvalid),
            "the right answer after a miss needs a new rendering"
        );
        for _ in 1..TRIES {
            t.auth.render_captcha(&c.id).await.unwrap();
            let x = answer(&t, &c.id).await;
            assert_eq!(
                t.auth.verify_captcha(&c.id, x + 20).await,
                Err(Error::CaptchaInvalid)
            );
        }
        assert_eq!(
            t.auth.render_captcha(&c.id).await,
            Err(Error::CaptchaInvalid)
        );
        assert!(matches!(
            t.auth.require_captcha(Some(&c.id)).await,
            Err(Error::CaptchaRequired { .. })
        ));
    }

    #[tokio::test]
    async fn each_rendering_goes_to_the_dev_outbox() {
        let t = harness();
        let c = t.auth.captcha(None).await.unwrap();
        let x = answer(&t, &c.id).await;
        let last = t.outbox.entries().pop().unwrap();
        assert_eq!(
            (last.channel, last.to.as_str(), last.body),
            (Channel::Captcha, c.id.as_str(), x.to_string())
        );
    }

    #[tokio::test]
    async fn expires() {
        let t = harness();
        let c = t.auth.captcha(None).await.unwrap();
        let x = answer(&t, &c.id).await;
        t.clock.advance(TTL);
        assert_eq!(
            t.auth.verify_captcha(&c.id, x).await,
            Err(Error::CaptchaInvalid)
        );
    }
}
