//! Images are turned upright by their EXIF orientation tag, as OpenCV's `imread` does: a photo
//! stored sideways with orientation 6 (or 8, 3) decodes to the same pixels as the upright one.

mod common;

use common::*;
use modelseal_deploy::image::{decode, Mat, Pixels};

/// `jpeg` with an EXIF APP1 segment carrying `orientation`, inserted after SOI.
fn with_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    assert_eq!(&jpeg[..2], b"\xff\xd8");
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"MM\x00\x2a\x00\x00\x00\x08"); // big endian, IFD at 8
    tiff.extend_from_slice(&1u16.to_be_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_be_bytes()); // count
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0]); // value padding
    tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    let mut app1 = b"Exif\x00\x00".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = b"\xff\xd8\xff\xe1".to_vec();
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn px(m: &Mat) -> &[u8] {
    match &m.pixels {
        Pixels::U8(p) => p,
        _ => panic!("u8 image"),
    }
}

/// Rotated 90 degrees clockwise (what orientation 6 asks for), by index arithmetic.
fn rotate_cw(m: &Mat) -> Vec<u8> {
    let (w, h) = (m.width, m.height);
    let src = px(m);
    let mut out = vec![0u8; w * h * 3];
    for y in 0..w {
        for x in 0..h {
            let (sx, sy) = (y, h - 1 - x);
            let s = (sy * w + sx) * 3;
            let d = (y * h + x) * 3;
            out[d..d + 3].copy_from_slice(&src[s..s + 3]);
        }
    }
    out
}

#[test]
fn exif_orientation_turns_the_picture_upright() {
    let Some(models) = models() else { return };
    let jpeg = std::fs::read(models.join("images/giraffe.jpg")).unwrap();
    let upright = decode(&jpeg, "dog.jpg").unwrap();
    // Orientation 1 changes nothing.
    let one = decode(&with_orientation(&jpeg, 1), "dog-1.jpg").unwrap();
    assert_eq!(px(&one), px(&upright));
    // 6: rotate 90 degrees clockwise.
    let six = decode(&with_orientation(&jpeg, 6), "dog-6.jpg").unwrap();
    assert_eq!((six.width, six.height), (upright.height, upright.width));
    assert_eq!(px(&six), &rotate_cw(&upright)[..]);
    // 3: rotate 180 degrees; 8: 90 counter-clockwise (three clockwise turns of 90).
    let three = decode(&with_orientation(&jpeg, 3), "dog-3.jpg").unwrap();
    let mut turned: Vec<u8> = px(&upright).chunks(3).rev().flatten().copied().collect();
    assert_eq!(px(&three), &turned[..]);
    let eight = decode(&with_orientation(&jpeg, 8), "dog-8.jpg").unwrap();
    turned = rotate_cw(&Mat::from_u8(upright.width, upright.height, turned));
    assert_eq!(px(&eight), &turned[..]);
}
