//! A slider captcha: a generated background with a square gap at a random x, and the piece
//! that fits it. The client slides the piece and sends its x; within a few pixels counts as
//! solved. A solved challenge is good for exactly one guarded request; three wrong guesses
//! void it. Images are rendered from a stored seed, so a challenge can be fetched again.

use super::Auth;
use crate::{
    store::{Condition, Item, Key, StoreError, Write},
    Error, Result,
};
use base64::{engine::general_purpose::STANDARD, Engine};

pub const WIDTH: u32 = 300;
pub const HEIGHT: u32 = 150;
pub const PIECE: u32 = 50;
pub const TOLERANCE: i64 = 4;
pub const TRIES: i64 = 3;
const TTL: i64 = 300;

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Challenge {
    pub id: String,
    /// PNG, base64: the background with the gap.
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
    x: i64,
    y: u32,
    seed: u64,
    solved: bool,
    tries_left: i64,
}

fn captcha_key(id: &str) -> Key {
    Key::new(format!("CAPTCHA#{id}"), "CAPTCHA")
}

impl Auth {
    /// Starts a challenge and answers its id.
    pub(crate) async fn new_captcha_id(&self) -> Result<String> {
        Ok(self.new_captcha().await?.0)
    }

    /// Starts a challenge: its id and its state, as written.
    async fn new_captcha(&self) -> Result<(String, State)> {
        let id = crate::random::id();
        // The expiry is the item's own (`expires_at`), not an attribute of the state.
        let expires_at = self.now() + TTL;
        let state = State {
            x: crate::random::range(PIECE + 10, WIDTH - PIECE - 10) as i64,
            y: crate::random::range(10, HEIGHT - PIECE - 10),
            seed: crate::random::u64(),
            solved: false,
            tries_left: TRIES,
        };
        self.store()
            .write(vec![Write::put_new(Item::of(
                captcha_key(&id),
                &state,
                Some(expires_at),
            ))])
            .await?;
        Ok((id, state))
    }

    /// The images of a challenge: the one named, if it is still open, else a new one.
    pub async fn captcha(&self, id: Option<&str>) -> Result<Challenge> {
        let existing = match id {
            Some(id) => match self.store().get(&captcha_key(id)).await? {
                Some(item) => Some((id.to_string(), item.parse::<State>()?)),
                None => None,
            },
            None => None,
        };
        let (id, state) = match existing {
            Some(found) => found,
            None => self.new_captcha().await?,
        };
        let (background, piece) = render(state.seed, state.x as u32, state.y);
        Ok(Challenge {
            id,
            background: STANDARD.encode(background),
            piece: STANDARD.encode(piece),
            y: state.y,
            width: WIDTH,
            height: HEIGHT,
            piece_size: PIECE,
        })
    }

    /// Checks a slider position. Right once: solved. Wrong three times: void.
    pub async fn verify_captcha(&self, id: &str, x: i64) -> Result<()> {
        let key = captcha_key(id);
        let item = self.store().get(&key).await?.ok_or(Error::CaptchaInvalid)?;
        let state: State = item.parse()?;
        if state.solved {
            return Err(Error::CaptchaInvalid);
        }
        let guard = Condition::equals("tries_left", state.tries_left);
        let right = (x - state.x).abs() <= TOLERANCE;
        let write = if right {
            Write::Put {
                item: Item::of(
                    key,
                    &State {
                        solved: true,
                        ..state.clone()
                    },
                    item.expires_at,
                ),
                cond: guard,
            }
        } else if state.tries_left <= 1 {
            Write::Delete { key, cond: guard }
        } else {
            let next = State {
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
        item.parse::<State>().unwrap().x
    }

    #[tokio::test]
    async fn renders_png_images_with_the_gap() {
        let t = harness();
        let c = t.auth.captcha(None).await.unwrap();
        let bg = STANDARD.decode(&c.background).unwrap();
        assert_eq!(&bg[1..4], b"PNG");
        let decoder = png::Decoder::new(bg.as_slice());
        let info = decoder.read_info().unwrap().info().clone();
        assert_eq!((info.width, info.height), (WIDTH, HEIGHT));
        let again = t.auth.captcha(Some(&c.id)).await.unwrap();
        assert_eq!(again, c, "a challenge renders the same when fetched again");
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
        t.auth.require_captcha(Some(&c.id)).await.unwrap();
        assert!(matches!(
            t.auth.require_captcha(Some(&c.id)).await,
            Err(Error::CaptchaRequired { .. })
        ));
    }

    #[tokio::test]
    async fn voids_after_three_wrong_guesses() {
        let t = harness();
        let c = t.auth.captcha(None).await.unwrap();
        let x = answer(&t, &c.id).await;
        for _ in 0..TRIES {
            assert_eq!(
                t.auth.verify_captcha(&c.id, x + 20).await,
                Err(Error::CaptchaInvalid)
            );
        }
        assert_eq!(
            t.auth.verify_captcha(&c.id, x).await,
            Err(Error::CaptchaInvalid)
        );
        assert!(matches!(
            t.auth.require_captcha(Some(&c.id)).await,
            Err(Error::CaptchaRequired { .. })
        ));
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
