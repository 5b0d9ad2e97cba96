//! Colours of contexts. A context keeps its colour across every format of one report (the map,
//! its card, the chips that mention it, DOT and Mermaid), and the same analysis always gets the
//! same colours: they are assigned by position in the extraction order.

/// A colour as `#rrggbb`, with a light tint of it for fills.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Colour {
    /// The strong colour: borders, bars, chips.
    pub strong: String,
    /// A pale tint for fills behind dark text.
    pub tint: String,
}

/// Ten hues that stay apart from one another on screen and on paper.
const PALETTE: [(u8, u8, u8); 10] = [
    (0x2f, 0x6f, 0xb3),
    (0xe0, 0x7b, 0x1f),
    (0x2e, 0x9e, 0x6a),
    (0xc8, 0x3e, 0x4d),
    (0x7b, 0x5e, 0xa7),
    (0x17, 0x9c, 0xa8),
    (0xb5, 0x8b, 0x00),
    (0xd1, 0x5d, 0x9a),
    (0x6b, 0x7d, 0x2f),
    (0x8c, 0x56, 0x3c),
];

/// Colour of the context at `index` in the extraction order. Past the palette, hues follow the
/// golden angle so neighbours still differ.
pub(super) fn context_colour(index: usize) -> Colour {
    let rgb = match PALETTE.get(index) {
        Some(&rgb) => rgb,
        None => {
            let hue = ((index - PALETTE.len()) as f64 * 137.508 + 20.0) % 360.0;
            hsl_to_rgb(hue, 0.55, 0.42)
        }
    };
    Colour {
        strong: hex(rgb),
        tint: hex(mix_with_white(rgb, 0.86)),
    }
}

/// Grey for anything that is not a context (the shared kernel, an unknown name).
pub(super) fn neutral() -> Colour {
    Colour {
        strong: "#6b7280".into(),
        tint: "#f1f2f4".into(),
    }
}

fn hex((r, g, b): (u8, u8, u8)) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

fn mix_with_white((r, g, b): (u8, u8, u8), white: f64) -> (u8, u8, u8) {
    let mix = |c: u8| (f64::from(c) * (1.0 - white) + 255.0 * white).round() as u8;
    (mix(r), mix(g), mix(b))
}

fn hsl_to_rgb(hue: f64, saturation: f64, lightness: f64) -> (u8, u8, u8) {
    let chroma = (1.0 - (2.0 * lightness - 1.0).abs()) * saturation;
    let sector = hue / 60.0;
    let x = chroma * (1.0 - (sector % 2.0 - 1.0).abs());
    let (r, g, b) = match sector as u32 {
        0 => (chroma, x, 0.0),
        1 => (x, chroma, 0.0),
        2 => (0.0, chroma, x),
        3 => (0.0, x, chroma),
        4 => (x, 0.0, chroma),
        _ => (chroma, 0.0, x),
    };
    let m = lightness - chroma / 2.0;
    let channel = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    (channel(r), channel(g), channel(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_stable_and_distinct_for_forty_contexts() {
        let colours: Vec<String> = (0..40).map(|i| context_colour(i).strong).collect();
        assert_eq!(
            colours,
            (0..40)
                .map(|i| context_colour(i).strong)
                .collect::<Vec<_>>()
        );
        let distinct: std::collections::BTreeSet<&String> = colours.iter().collect();
        assert_eq!(distinct.len(), 40);
        assert!(colours.iter().all(|c| c.len() == 7 && c.starts_with('#')));
    }
}
