//! Drawing a slider challenge: a textured background with the gap, and the piece. The
//! pictures are friction only (see the use case): the gap is shaded and noised, the piece has
//! noise of its own, and decoy gaps sit beside the real one.

use super::{HEIGHT, PIECE, WIDTH, X_RANGE};

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

/// Decoy gaps drawn beside the real one.
const DECOYS: usize = 2;

pub(super) fn render(seed: u64, gap_x: u32, gap_y: u32) -> (Vec<u8>, Vec<u8>) {
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
            for (k, v) in px.iter().enumerate() {
                img[i + k] = jitter(*v, &mut rng, 12);
            }
        }
    }
    // The piece: the original pixels, each with noise of its own and the whole a little
    // brighter or darker, so it equals nothing in the background exactly.
    let lift = (rng.next() % 31) as i32 - 15;
    let mut piece = vec![0u8; (PIECE * PIECE * 3) as usize];
    for y in 0..PIECE {
        for x in 0..PIECE {
            let src = (((gap_y + y) * WIDTH + gap_x + x) * 3) as usize;
            let dst = ((y * PIECE + x) * 3) as usize;
            let edge = x == 0 || y == 0 || x == PIECE - 1 || y == PIECE - 1;
            for k in 0..3 {
                piece[dst + k] = if edge {
                    255
                } else {
                    jitter(clamp(i32::from(img[src + k]) + lift), &mut rng, 10)
                };
            }
        }
    }
    let mut gaps = vec![gap_x];
    while gaps.len() <= DECOYS {
        let x = X_RANGE.0 + (rng.next() % u64::from(X_RANGE.1 - X_RANGE.0)) as u32;
        if gaps.iter().all(|g| g.abs_diff(x) >= PIECE) {
            gaps.push(x);
        }
    }
    for x in gaps {
        shade_gap(&mut img, x, gap_y, &mut rng);
    }
    (png(&img, WIDTH, HEIGHT), png(&piece, PIECE, PIECE))
}

/// Darkens a square by a factor of its own (40–60 %), with noise and a light outline.
fn shade_gap(img: &mut [u8], gap_x: u32, gap_y: u32, rng: &mut XorShift) {
    let keep = 40 + (rng.next() % 21) as i32;
    for y in 0..PIECE {
        for x in 0..PIECE {
            let i = (((gap_y + y) * WIDTH + gap_x + x) * 3) as usize;
            let edge = x == 0 || y == 0 || x == PIECE - 1 || y == PIECE - 1;
            for k in 0..3 {
                img[i + k] = if edge {
                    jitter(230, rng, 20)
                } else {
                    jitter(clamp(i32::from(img[i + k]) * keep / 100), rng, 8)
                };
            }
        }
    }
}

fn jitter(v: u8, rng: &mut XorShift, spread: u64) -> u8 {
    clamp(i32::from(v) + (rng.next() % (2 * spread + 1)) as i32 - spread as i32)
}

fn clamp(v: i32) -> u8 {
    v.clamp(0, 255) as u8
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
