//! HEIF / HEIC and AVIF still images (ISO-BMFF, ISO/IEC 23008-12): keep the primary image
//! and the coded items it is built from, with the item properties a decoder needs to display
//! it; drop every other item (EXIF, XMP, thumbnails, auxiliary images such as depth maps,
//! portrait mattes and HDR gain maps, other images) and every other box.
//!
//! The output is rebuilt, not patched: the input's `ftyp`, then a new `meta` (`hdlr`, `dinf`,
//! `pitm`, `iinf`, `iref`, `iprp`, `iloc`) and one `mdat` holding the kept items' data, the
//! coded image data copied byte for byte. Item names, handler names and data references are
//! written empty.
//!
//! What this surgery does not understand is refused with [`Error::UnsupportedFormat`] (the
//! Python layer then re-encodes the decoded picture instead): image sequences (`moov`),
//! protected items, item data in other files or built from other items, item types other than
//! coded images and grid / identity / overlay derivations, properties marked essential that
//! are not on the allow-list, a primary image with an alpha plane, several `ipma` boxes.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::{IccPolicy, Policy, Reader, Report};
use crate::error::{Error, Result};
use crate::metadata::Format;

fn unsupported(why: &str) -> Error {
    Error::UnsupportedFormat(format!("HEIF not stripped losslessly: {why}"))
}

fn corrupt(why: String) -> Error {
    Error::CorruptInput(format!("corrupt HEIF: {why}"))
}

/// One box: its type, its body (after the size/type header) and its whole bytes.
#[derive(Clone, Copy)]
struct BmffBox<'a> {
    kind: [u8; 4],
    body: &'a [u8],
    whole: &'a [u8],
}

/// The boxes that tile `data` exactly (a size of 0 runs to the end).
fn read_boxes<'a>(data: &'a [u8]) -> Result<Vec<BmffBox<'a>>> {
    let mut boxes = Vec::new();
    let mut r = Reader::new(data, 0, "HEIF");
    while r.remaining() > 0 {
        let start = r.pos;
        let size32 = r.u32_be()?;
        let t = r.take(4)?;
        let kind = [t[0], t[1], t[2], t[3]];
        let size = match size32 {
            0 => (data.len() - start) as u64,
            1 => uint(&mut r, 8)?,
            n => u64::from(n),
        };
        let header = r.pos - start;
        let size = usize::try_from(size).map_err(|_| corrupt("box too large".into()))?;
        if size < header {
            return Err(corrupt(format!(
                "box at byte {start} is smaller than its header"
            )));
        }
        r.pos = start;
        let whole = r.take(size)?;
        boxes.push(BmffBox {
            kind,
            body: &whole[header..],
            whole,
        });
    }
    Ok(boxes)
}

/// A big-endian unsigned integer of `n` bytes (0, 4 or 8 in practice; 0 reads as 0).
fn uint(r: &mut Reader<'_>, n: usize) -> Result<u64> {
    let bytes = r.take(n)?;
    if n > 8 {
        return Err(corrupt(format!("a {n}-byte field")));
    }
    Ok(bytes.iter().fold(0u64, |v, &b| (v << 8) | u64::from(b)))
}

/// A full box's version, flags and content.
fn full_box<'a>(b: &BmffBox<'a>) -> Result<(u8, u32, Reader<'a>)> {
    let mut r = Reader::new(b.body, 0, "HEIF");
    let head = r.u32_be()?;
    Ok(((head >> 24) as u8, head & 0x00FF_FFFF, r))
}

fn item_id(r: &mut Reader<'_>, wide: bool) -> Result<u32> {
    if wide {
        r.u32_be()
    } else {
        r.u16_be().map(u32::from)
    }
}

struct ItemInfo {
    id: u32,
    kind: [u8; 4],
    hidden: bool,
    protected: bool,
    xml: bool,
}

struct Reference {
    kind: [u8; 4],
    from: u32,
    to: Vec<u32>,
}

/// Where an item's data is: `(in idat, extents as (offset, length))`; a length of 0 runs to
/// the end of the file (or of `idat`).
struct Location {
    in_idat: bool,
    extents: Vec<(u64, u64)>,
}

/// One property association of an item: (essential, 0-based index into `ipco`).
type Association = (bool, usize);

/// The kept properties, and each kept item's associations with them (by item ID).
type KeptProperties<'a> = (Vec<BmffBox<'a>>, BTreeMap<u32, Vec<Association>>);

#[derive(Default)]
struct Meta<'a> {
    primary: Option<u32>,
    items: Vec<ItemInfo>,
    refs: Vec<Reference>,
    properties: Vec<BmffBox<'a>>,
    associations: HashMap<u32, Vec<Association>>,
    locations: HashMap<u32, Location>,
    idat: &'a [u8],
    dropped_boxes: usize,
}

fn parse_meta<'a>(meta: &BmffBox<'a>) -> Result<Meta<'a>> {
    let (_, _, r) = full_box(meta)?;
    let mut out = Meta::default();
    let mut ipma_seen = false;
    for child in read_boxes(&r.data[r.pos..])? {
        match &child.kind {
            b"hdlr" => {
                let (_, _, mut h) = full_box(&child)?;
                h.take(4)?;
                if h.take(4)? != b"pict" {
                    return Err(unsupported("its meta box does not describe pictures"));
                }
            }
            b"pitm" => {
                let (version, _, mut p) = full_box(&child)?;
                out.primary = Some(item_id(&mut p, version > 0)?);
            }
            b"iinf" => out.items = parse_iinf(&child)?,
            b"iref" => out.refs = parse_iref(&child)?,
            b"iprp" => {
                for part in read_boxes(child.body)? {
                    match &part.kind {
                        b"ipco" => out.properties = read_boxes(part.body)?,
                        b"ipma" if ipma_seen => return Err(unsupported("several ipma boxes")),
                        b"ipma" => {
                            ipma_seen = true;
                            out.associations = parse_ipma(&part)?;
                        }
                        _ => out.dropped_boxes += part.whole.len(),
                    }
                }
            }
            b"iloc" => out.locations = parse_iloc(&child)?,
            b"idat" => out.idat = child.body,
            b"ipro" => return Err(unsupported("protected items")),
            b"dinf" => {} // rebuilt: this file is the only data reference kept
            _ => out.dropped_boxes += child.whole.len(), // grpl, xml, bxml, …
        }
    }
    Ok(out)
}

fn parse_iinf(b: &BmffBox<'_>) -> Result<Vec<ItemInfo>> {
    let (version, _, mut r) = full_box(b)?;
    if version == 0 {
        r.u16_be()?;
    } else {
        r.u32_be()?;
    }
    let mut items = Vec::new();
    for entry in read_boxes(&r.data[r.pos..])? {
        if &entry.kind != b"infe" {
            continue;
        }
        let (version, flags, mut e) = full_box(&entry)?;
        if version < 2 {
            return Err(unsupported("an item info entry older than version 2"));
        }
        let id = item_id(&mut e, version > 2)?;
        let protected = e.u16_be()? != 0;
        let t = e.take(4)?;
        let kind = [t[0], t[1], t[2], t[3]];
        let rest = &e.data[e.pos..];
        // item_name, then (mime) content_type: both NUL-terminated strings.
        let xml = &kind == b"mime"
            && rest
                .split(|&c| c == 0)
                .nth(1)
                .is_some_and(|ct| ct.windows(3).any(|w| w.eq_ignore_ascii_case(b"xml")));
        items.push(ItemInfo {
            id,
            kind,
            hidden: flags & 1 == 1,
            protected,
            xml,
        });
    }
    Ok(items)
}

fn parse_iref(b: &BmffBox<'_>) -> Result<Vec<Reference>> {
    let (version, _, r) = full_box(b)?;
    let wide = version > 0;
    let mut refs = Vec::new();
    for one in read_boxes(&r.data[r.pos..])? {
        let mut s = Reader::new(one.body, 0, "HEIF");
        let from = item_id(&mut s, wide)?;
        let count = s.u16_be()?;
        let mut to = Vec::new();
        for _ in 0..count {
            to.push(item_id(&mut s, wide)?);
        }
        refs.push(Reference {
            kind: one.kind,
            from,
            to,
        });
    }
    Ok(refs)
}

fn parse_ipma(b: &BmffBox<'_>) -> Result<HashMap<u32, Vec<Association>>> {
    let (version, flags, mut r) = full_box(b)?;
    let count = r.u32_be()?;
    let mut out = HashMap::new();
    for _ in 0..count {
        let id = item_id(&mut r, version > 0)?;
        let n = r.u8()?;
        let mut list = Vec::new();
        for _ in 0..n {
            let (essential, index) = if flags & 1 == 1 {
                let v = r.u16_be()?;
                (v & 0x8000 != 0, usize::from(v & 0x7FFF))
            } else {
                let v = r.u8()?;
                (v & 0x80 != 0, usize::from(v & 0x7F))
            };
            if index > 0 {
                list.push((essential, index - 1));
            }
        }
        out.entry(id).or_insert_with(Vec::new).extend(list);
    }
    Ok(out)
}

fn parse_iloc(b: &BmffBox<'_>) -> Result<HashMap<u32, Location>> {
    let (version, _, mut r) = full_box(b)?;
    if version > 2 {
        return Err(unsupported("an item location box newer than version 2"));
    }
    let sizes = r.u16_be()?;
    let offset_size = usize::from(sizes >> 12);
    let length_size = usize::from((sizes >> 8) & 0xF);
    let base_size = usize::from((sizes >> 4) & 0xF);
    let index_size = if version > 0 {
        usize::from(sizes & 0xF)
    } else {
        0
    };
    let count = if version < 2 {
        u32::from(r.u16_be()?)
    } else {
        r.u32_be()?
    };
    let mut out = HashMap::new();
    for _ in 0..count {
        let id = item_id(&mut r, version == 2)?;
        let method = if version > 0 { r.u16_be()? & 0xF } else { 0 };
        if r.u16_be()? != 0 {
            return Err(unsupported("item data in another file"));
        }
        let base = uint(&mut r, base_size)?;
        let extents_count = r.u16_be()?;
        let mut extents = Vec::new();
        for _ in 0..extents_count {
            if uint(&mut r, index_size)? != 0 {
                return Err(unsupported("item extents indexed into other items"));
            }
            let offset = uint(&mut r, offset_size)?;
            let length = uint(&mut r, length_size)?;
            let start = base
                .checked_add(offset)
                .ok_or_else(|| corrupt("an item offset overflows".into()))?;
            extents.push((start, length));
        }
        let in_idat = match method {
            0 => false,
            1 => true,
            _ => return Err(unsupported("item data built from other items")),
        };
        out.insert(id, Location { in_idat, extents });
    }
    Ok(out)
}

/// The byte slices of an item's data (its extents, in order), bounds-checked.
fn item_data<'a>(file: &'a [u8], meta: &Meta<'a>, id: u32) -> Result<Vec<&'a [u8]>> {
    let loc = meta
        .locations
        .get(&id)
        .ok_or_else(|| corrupt(format!("item {id} has no location")))?;
    let source = if loc.in_idat { meta.idat } else { file };
    loc.extents
        .iter()
        .map(|&(offset, length)| {
            let start = usize::try_from(offset).ok().filter(|&s| s <= source.len());
            let start = start.ok_or_else(|| corrupt(format!("item {id} starts past the end")))?;
            let end = if length == 0 {
                Some(source.len())
            } else {
                usize::try_from(length)
                    .ok()
                    .and_then(|l| start.checked_add(l))
            };
            end.and_then(|e| source.get(start..e))
                .ok_or_else(|| corrupt(format!("item {id} runs past the end of its data")))
        })
        .collect()
}

/// Item types whose data a decoder turns into (part of) the picture.
const KEPT_ITEM_TYPES: [&[u8; 4]; 5] = [b"hvc1", b"av01", b"grid", b"iden", b"iovl"];

/// The primary item and every item it is derived from (`dimg`), primary first.
fn kept_items(meta: &Meta<'_>) -> Result<Vec<u32>> {
    let primary = meta
        .primary
        .ok_or_else(|| corrupt("no primary item".into()))?;
    let mut kept = vec![primary];
    let mut seen: HashSet<u32> = kept.iter().copied().collect();
    let mut i = 0;
    while i < kept.len() {
        let id = kept[i];
        let info = meta
            .items
            .iter()
            .find(|it| it.id == id)
            .ok_or_else(|| corrupt(format!("item {id} has no item info")))?;
        if info.protected {
            return Err(unsupported("protected items"));
        }
        if !KEPT_ITEM_TYPES.contains(&&info.kind) {
            let kind = String::from_utf8_lossy(&info.kind).into_owned();
            return Err(unsupported(&format!("a picture built from {kind:?} items")));
        }
        for r in meta
            .refs
            .iter()
            .filter(|r| r.from == id && &r.kind == b"dimg")
        {
            for &to in &r.to {
                if seen.insert(to) {
                    kept.push(to);
                }
            }
        }
        i += 1;
    }
    Ok(kept)
}

const ALPHA_AUX_TYPES: [&[u8]; 2] = [
    b"urn:mpeg:hevc:2015:auxid:1",
    b"urn:mpeg:mpegB:cicp:systems:auxiliary:alpha",
];

/// Refuse a kept image with an alpha plane (an auxiliary item of an alpha type): dropping it
/// would change the picture, and keeping it is not this surgery's job.
fn refuse_alpha(meta: &Meta<'_>, kept: &HashSet<u32>) -> Result<()> {
    for r in meta.refs.iter().filter(|r| &r.kind == b"auxl") {
        if !r.to.iter().any(|t| kept.contains(t)) {
            continue;
        }
        let props = meta
            .associations
            .get(&r.from)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        for &(_, index) in props {
            let Some(p) = meta.properties.get(index) else {
                continue;
            };
            if &p.kind == b"auxC" && p.body.len() > 4 {
                let urn = p.body[4..].split(|&c| c == 0).next().unwrap_or(&[]);
                if ALPHA_AUX_TYPES.contains(&urn) {
                    return Err(unsupported("an image with an alpha plane"));
                }
            }
        }
    }
    Ok(())
}

/// Properties a kept image keeps: how it is coded, its size, rotation, mirroring, cropping,
/// pixel aspect, colour (an ICC profile by policy) and light levels.
const KEPT_PROPERTIES: [&[u8; 4]; 16] = [
    b"hvcC", b"av1C", b"ispe", b"pixi", b"colr", b"irot", b"imir", b"clap", b"pasp", b"clli",
    b"mdcv", b"cclv", b"amve", b"rloc", b"lsel", b"a1op",
];

fn is_icc(p: &BmffBox<'_>) -> bool {
    &p.kind == b"colr" && matches!(p.body.get(..4), Some(b"prof") | Some(b"rICC"))
}

/// The kept items' property associations, remapped onto the kept properties (in first-use
/// order); records what was dropped.
fn kept_properties<'a>(
    meta: &Meta<'a>,
    kept: &[u32],
    policy: &Policy,
    report: &mut Report,
) -> Result<KeptProperties<'a>> {
    let mut new_index: HashMap<usize, usize> = HashMap::new();
    let mut properties = Vec::new();
    let mut associations = BTreeMap::new();
    let mut dropped: HashSet<usize> = HashSet::new();
    for &id in kept {
        let mut list = Vec::new();
        for &(essential, index) in meta.associations.get(&id).map(Vec::as_slice).unwrap_or(&[]) {
            let p = meta
                .properties
                .get(index)
                .ok_or_else(|| corrupt(format!("item {id} uses a missing property")))?;
            let allowed = KEPT_PROPERTIES.contains(&&p.kind);
            if allowed && !(is_icc(p) && policy.icc == IccPolicy::Drop) {
                let next = properties.len();
                let at = *new_index.entry(index).or_insert(next);
                if at == next {
                    properties.push(*p);
                }
                list.push((essential, at));
            } else if essential && !allowed {
                let kind = String::from_utf8_lossy(&p.kind).into_owned();
                return Err(unsupported(&format!("an essential {kind:?} property")));
            } else if dropped.insert(index) {
                report.remove(
                    if is_icc(p) { "icc" } else { "item property" },
                    p.whole.len(),
                );
            }
        }
        associations.insert(id, list);
    }
    Ok((properties, associations))
}

/// What kind of content a dropped item is, for the report.
fn dropped_kind(meta: &Meta<'_>, item: &ItemInfo) -> &'static str {
    let refers = |kind: &[u8; 4]| {
        meta.refs
            .iter()
            .any(|r| r.from == item.id && &r.kind == kind)
    };
    match &item.kind {
        b"Exif" => "exif",
        b"mime" if item.xml => "xmp",
        _ if refers(b"thmb") => "thumbnail",
        _ if refers(b"auxl") => "auxiliary image",
        _ => "other item",
    }
}

fn record_dropped_items(file: &[u8], meta: &Meta<'_>, kept: &HashSet<u32>, report: &mut Report) {
    for item in meta.items.iter().filter(|it| !kept.contains(&it.id)) {
        let bytes = item_data(file, meta, item.id)
            .map(|parts| parts.iter().map(|p| p.len()).sum())
            .unwrap_or(0);
        report.remove(dropped_kind(meta, item), bytes);
    }
}

/// Strip a HEIF or AVIF file (see the module documentation).
pub fn strip_into(data: &[u8], policy: &Policy, out: &mut Vec<u8>) -> Result<Report> {
    let boxes = read_boxes(data)?;
    let format = match super::sniff(data) {
        Some(f @ (Format::Heif | Format::Avif)) => f,
        _ => return Err(unsupported("not a HEIF or AVIF file")),
    };
    let mut report = Report::new(format);
    let ftyp = boxes.first().filter(|b| &b.kind == b"ftyp");
    let ftyp = ftyp.ok_or_else(|| corrupt("no ftyp box first".into()))?;
    let mut metas = boxes.iter().filter(|b| &b.kind == b"meta");
    let meta_box = metas.next().ok_or_else(|| corrupt("no meta box".into()))?;
    if metas.next().is_some() {
        return Err(unsupported("several meta boxes"));
    }
    if boxes.iter().any(|b| &b.kind == b"moov") {
        return Err(unsupported("an image sequence (moov box)"));
    }
    for b in &boxes {
        if !matches!(&b.kind, b"ftyp" | b"meta" | b"mdat") {
            report.remove("box", b.whole.len());
        }
    }
    let meta = parse_meta(meta_box)?;
    if meta.dropped_boxes > 0 {
        report.remove("box", meta.dropped_boxes);
    }
    let kept = kept_items(&meta)?;
    if kept.len() > 0xFFFF {
        return Err(unsupported("a picture built from more than 65535 items"));
    }
    let kept_set: HashSet<u32> = kept.iter().copied().collect();
    refuse_alpha(&meta, &kept_set)?;
    let (properties, associations) = kept_properties(&meta, &kept, policy, &mut report)?;
    let payloads = kept
        .iter()
        .map(|&id| item_data(data, &meta, id))
        .collect::<Result<Vec<_>>>()?;
    record_dropped_items(data, &meta, &kept_set, &mut report);
    let layout = Layout {
        meta: &meta,
        kept: &kept,
        properties: &properties,
        associations: &associations,
        payloads: &payloads,
    };
    out.clear();
    out.extend_from_slice(ftyp.whole);
    layout.write(out)?;
    Ok(report)
}

/// The rebuilt `meta` and `mdat`.
struct Layout<'l, 'a> {
    meta: &'l Meta<'a>,
    kept: &'l [u32],
    properties: &'l [BmffBox<'a>],
    associations: &'l BTreeMap<u32, Vec<Association>>,
    payloads: &'l [Vec<&'a [u8]>],
}

impl Layout<'_, '_> {
    fn write(&self, out: &mut Vec<u8>) -> Result<()> {
        let wide = self.kept.iter().any(|&id| id > 0xFFFF);
        // The meta box's size does not depend on the offsets (fixed 4-byte fields): build it
        // once to learn where the data will start, then for real.
        let draft = self.meta_box(wide, 0)?;
        let data_start = out.len() + draft.len() + 8;
        out.extend_from_slice(&self.meta_box(wide, data_start)?);
        let total: usize = self.payloads.iter().flatten().map(|p| p.len()).sum();
        let mdat_size = u32::try_from(total + 8)
            .map_err(|_| Error::LimitExceeded("HEIF image data over 4 GB".into()))?;
        out.extend_from_slice(&mdat_size.to_be_bytes());
        out.extend_from_slice(b"mdat");
        for part in self.payloads.iter().flatten() {
            out.extend_from_slice(part);
        }
        Ok(())
    }

    fn meta_box(&self, wide: bool, data_start: usize) -> Result<Vec<u8>> {
        let mut body = vec![0, 0, 0, 0];
        push_box(&mut body, b"hdlr", &handler());
        push_box(&mut body, b"dinf", &data_information());
        let primary = self.kept[0];
        let mut pitm = full_header(u8::from(wide), 0);
        push_id(&mut pitm, primary, wide);
        push_box(&mut body, b"pitm", &pitm);
        push_box(&mut body, b"iinf", &self.item_infos(wide));
        if let Some(iref) = self.references(wide) {
            push_box(&mut body, b"iref", &iref);
        }
        push_box(&mut body, b"iprp", &self.item_properties(wide)?);
        push_box(&mut body, b"iloc", &self.locations(wide, data_start)?);
        let mut meta = Vec::new();
        push_box(&mut meta, b"meta", &body);
        Ok(meta)
    }

    fn item_infos(&self, wide: bool) -> Vec<u8> {
        let mut iinf = full_header(0, 0);
        iinf.extend_from_slice(&(self.kept.len() as u16).to_be_bytes());
        for &id in self.kept {
            let info = self.meta.items.iter().find(|it| it.id == id);
            let (kind, hidden) = info.map_or((*b"hvc1", false), |it| (it.kind, it.hidden));
            let mut infe = full_header(if wide { 3 } else { 2 }, u32::from(hidden));
            push_id(&mut infe, id, wide);
            infe.extend_from_slice(&[0, 0]); // item_protection_index
            infe.extend_from_slice(&kind);
            infe.push(0); // item_name: empty
            push_box(&mut iinf, b"infe", &infe);
        }
        iinf
    }

    fn references(&self, wide: bool) -> Option<Vec<u8>> {
        let mut iref = full_header(u8::from(wide), 0);
        let mut any = false;
        for r in self.meta.refs.iter().filter(|r| &r.kind == b"dimg") {
            if !self.kept.contains(&r.from) {
                continue;
            }
            let mut one = Vec::new();
            push_id(&mut one, r.from, wide);
            one.extend_from_slice(&(r.to.len() as u16).to_be_bytes());
            for &to in &r.to {
                push_id(&mut one, to, wide);
            }
            push_box(&mut iref, b"dimg", &one);
            any = true;
        }
        any.then_some(iref)
    }

    fn item_properties(&self, wide: bool) -> Result<Vec<u8>> {
        let mut ipco = Vec::new();
        for p in self.properties {
            ipco.extend_from_slice(p.whole);
        }
        let large = self.properties.len() > 0x7F;
        if self.properties.len() > 0x7FFF {
            return Err(unsupported("more than 32767 item properties"));
        }
        let mut ipma = full_header(u8::from(wide), u32::from(large));
        ipma.extend_from_slice(&(self.associations.len() as u32).to_be_bytes());
        for (&id, list) in self.associations {
            push_id(&mut ipma, id, wide);
            let n = u8::try_from(list.len()).map_err(|_| unsupported("too many properties"))?;
            ipma.push(n);
            for &(essential, index) in list {
                let one_based = index + 1;
                if large {
                    let v = one_based as u16 | if essential { 0x8000 } else { 0 };
                    ipma.extend_from_slice(&v.to_be_bytes());
                } else {
                    ipma.push(one_based as u8 | if essential { 0x80 } else { 0 });
                }
            }
        }
        let mut iprp = Vec::new();
        push_box(&mut iprp, b"ipco", &ipco);
        push_box(&mut iprp, b"ipma", &ipma);
        Ok(iprp)
    }

    fn locations(&self, wide: bool, data_start: usize) -> Result<Vec<u8>> {
        let mut iloc = full_header(if wide { 2 } else { 0 }, 0);
        iloc.extend_from_slice(&[0x44, 0x00]); // offset_size 4, length_size 4, base 0
        if wide {
            iloc.extend_from_slice(&(self.kept.len() as u32).to_be_bytes());
        } else {
            iloc.extend_from_slice(&(self.kept.len() as u16).to_be_bytes());
        }
        let mut offset = data_start;
        for (&id, parts) in self.kept.iter().zip(self.payloads) {
            let length: usize = parts.iter().map(|p| p.len()).sum();
            push_id(&mut iloc, id, wide);
            if wide {
                iloc.extend_from_slice(&[0, 0]); // construction_method 0: file offset
            }
            iloc.extend_from_slice(&[0, 0, 0, 1]); // data_reference_index 0, one extent
            let too_big = || Error::LimitExceeded("HEIF file over 4 GB".into());
            iloc.extend_from_slice(&u32::try_from(offset).map_err(|_| too_big())?.to_be_bytes());
            iloc.extend_from_slice(&u32::try_from(length).map_err(|_| too_big())?.to_be_bytes());
            offset += length;
        }
        Ok(iloc)
    }
}

fn full_header(version: u8, flags: u32) -> Vec<u8> {
    let head = (u32::from(version) << 24) | (flags & 0x00FF_FFFF);
    head.to_be_bytes().to_vec()
}

fn push_id(out: &mut Vec<u8>, id: u32, wide: bool) {
    if wide {
        out.extend_from_slice(&id.to_be_bytes());
    } else {
        out.extend_from_slice(&(id as u16).to_be_bytes());
    }
}

fn push_box(out: &mut Vec<u8>, kind: &[u8; 4], body: &[u8]) {
    out.extend_from_slice(&((body.len() + 8) as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
}

/// A picture handler with an empty name.
fn handler() -> Vec<u8> {
    let mut h = full_header(0, 0);
    h.extend_from_slice(&[0; 4]); // pre_defined
    h.extend_from_slice(b"pict");
    h.extend_from_slice(&[0; 12]); // reserved
    h.push(0); // name: empty
    h
}

/// One data reference: this file (a `url ` entry with the self-contained flag).
fn data_information() -> Vec<u8> {
    let mut dref = full_header(0, 0);
    dref.extend_from_slice(&1u32.to_be_bytes());
    push_box(&mut dref, b"url ", &full_header(0, 1));
    let mut dinf = Vec::new();
    push_box(&mut dinf, b"dref", &dref);
    dinf
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        push_box(&mut out, kind, body);
        out
    }

    fn full(kind: &[u8; 4], version: u8, flags: u32, body: &[u8]) -> Vec<u8> {
        let mut b = full_header(version, flags);
        b.extend_from_slice(body);
        bx(kind, &b)
    }

    fn infe(id: u16, kind: &[u8; 4], extra: &[u8]) -> Vec<u8> {
        let mut b = id.to_be_bytes().to_vec();
        b.extend_from_slice(&[0, 0]);
        b.extend_from_slice(kind);
        b.extend_from_slice(b"name\0");
        b.extend_from_slice(extra);
        full(b"infe", 2, 0, &b)
    }

    fn reference(kind: &[u8; 4], from: u16, to: &[u16]) -> Vec<u8> {
        let mut b = from.to_be_bytes().to_vec();
        b.extend_from_slice(&(to.len() as u16).to_be_bytes());
        for t in to {
            b.extend_from_slice(&t.to_be_bytes());
        }
        bx(kind, &b)
    }

    /// An item in the synthetic file: id, type, bytes, stored in idat, properties (1-based,
    /// essential flag), references from it.
    pub(crate) struct Item {
        pub id: u16,
        pub kind: [u8; 4],
        pub data: Vec<u8>,
        pub in_idat: bool,
        pub props: Vec<(u8, bool)>,
        pub refs: Vec<([u8; 4], Vec<u16>)>,
    }

    pub(crate) fn item(id: u16, kind: &[u8; 4], data: &[u8]) -> Item {
        Item {
            id,
            kind: *kind,
            data: data.to_vec(),
            in_idat: false,
            props: vec![],
            refs: vec![],
        }
    }

    /// A HEIF file: `ftyp`, `meta` (iloc version 1, every item in two extents when it has
    /// at least two bytes), `mdat`; `extra` top-level boxes go after `mdat`.
    pub(crate) fn build(primary: u16, items: &[Item], props: &[Vec<u8>], extra: &[u8]) -> Vec<u8> {
        let ftyp = bx(b"ftyp", b"heic\0\0\0\0mif1heic");
        let mut iinf = 0u16.to_be_bytes().to_vec();
        iinf[..2].copy_from_slice(&(items.len() as u16).to_be_bytes());
        let mut irefs = Vec::new();
        let mut ipma = (items.len() as u32).to_be_bytes().to_vec();
        for it in items {
            let extra: &[u8] = if &it.kind == b"mime" {
                b"application/rdf+xml\0"
            } else {
                b""
            };
            iinf.extend_from_slice(&infe(it.id, &it.kind, extra));
            for (kind, to) in &it.refs {
                irefs.extend_from_slice(&reference(kind, it.id, to));
            }
            ipma.extend_from_slice(&it.id.to_be_bytes());
            ipma.push(it.props.len() as u8);
            for &(index, essential) in &it.props {
                ipma.push(index | if essential { 0x80 } else { 0 });
            }
        }
        let mut ipco = Vec::new();
        for p in props {
            ipco.extend_from_slice(p);
        }
        let mut iprp = bx(b"ipco", &ipco);
        iprp.extend_from_slice(&full(b"ipma", 0, 0, &ipma));
        let mut idat = Vec::new();
        let mut mdat = Vec::new();
        type Extents = (u16, bool, Vec<(u32, u32)>);
        let mut extents: Vec<Extents> = Vec::new();
        for it in items {
            let (store, in_idat) = if it.in_idat {
                (&mut idat, true)
            } else {
                (&mut mdat, false)
            };
            let half = it.data.len() / 2;
            let mut list = Vec::new();
            for part in [&it.data[..half], &it.data[half..]] {
                if !part.is_empty() {
                    list.push((store.len() as u32, part.len() as u32));
                    store.extend_from_slice(part);
                }
            }
            extents.push((it.id, in_idat, list));
        }
        let iloc_for = |mdat_start: u32| {
            let mut b = vec![0x44, 0x00];
            b.extend_from_slice(&(items.len() as u16).to_be_bytes());
            for (id, in_idat, list) in &extents {
                b.extend_from_slice(&id.to_be_bytes());
                b.extend_from_slice(&[0, u8::from(*in_idat)]);
                b.extend_from_slice(&[0, 0]);
                b.extend_from_slice(&(list.len() as u16).to_be_bytes());
                for &(offset, length) in list {
                    let base = if *in_idat { 0 } else { mdat_start };
                    b.extend_from_slice(&(base + offset).to_be_bytes());
                    b.extend_from_slice(&length.to_be_bytes());
                }
            }
            full(b"iloc", 1, 0, &b)
        };
        let meta_for = |mdat_start: u32| {
            let mut hdlr = [0u8; 4].to_vec();
            hdlr.extend_from_slice(b"pict");
            hdlr.extend_from_slice(&[0; 12]);
            hdlr.extend_from_slice(b"Apple handler\0");
            let mut body = full(b"hdlr", 0, 0, &hdlr);
            body.extend_from_slice(&full(b"pitm", 0, 0, &primary.to_be_bytes()));
            body.extend_from_slice(&full(b"iinf", 0, 0, &iinf));
            if !irefs.is_empty() {
                body.extend_from_slice(&full(b"iref", 0, 0, &irefs));
            }
            body.extend_from_slice(&bx(b"iprp", &iprp));
            body.extend_from_slice(&iloc_for(mdat_start));
            if !idat.is_empty() {
                body.extend_from_slice(&bx(b"idat", &idat));
            }
            body.extend_from_slice(&bx(b"xml ", b"<x:xmpmeta>secret</x:xmpmeta>"));
            full(b"meta", 0, 0, &body)
        };
        let draft = meta_for(0);
        let mdat_start = (ftyp.len() + draft.len() + 8) as u32;
        let mut out = ftyp;
        out.extend_from_slice(&meta_for(mdat_start));
        out.extend_from_slice(&bx(b"mdat", &mdat));
        out.extend_from_slice(extra);
        out
    }

    pub(crate) fn colr_icc() -> Vec<u8> {
        bx(b"colr", b"profICC-PROFILE-BYTES")
    }

    fn props() -> Vec<Vec<u8>> {
        vec![
            bx(b"hvcC", b"\x01decoder-config"),
            full(b"ispe", 0, 0, &[0, 0, 0, 64, 0, 0, 0, 48]),
            colr_icc(),
            bx(b"udes", b"\0\0\0\0en\0a description naming someone\0\0\0"),
            bx(b"irot", &[1]),
        ]
    }

    /// A photo: primary hvc1 item 1, its EXIF (2), XMP in idat (3), a thumbnail (4).
    pub(crate) fn photo() -> Vec<u8> {
        let mut primary = item(1, b"hvc1", b"PRIMARY-CODED-PICTURE");
        primary.props = vec![(1, true), (2, false), (3, false), (4, false), (5, true)];
        let mut exif = item(2, b"Exif", b"\0\0\0\0MM\0*GPS-IS-HERE");
        exif.refs = vec![(*b"cdsc", vec![1])];
        let mut xmp = item(3, b"mime", b"<x:xmpmeta>person</x:xmpmeta>");
        xmp.in_idat = true;
        xmp.refs = vec![(*b"cdsc", vec![1])];
        let mut thumb = item(4, b"hvc1", b"THUMBNAIL-PICTURE");
        thumb.props = vec![(1, true), (2, false)];
        thumb.refs = vec![(*b"thmb", vec![1])];
        build(
            1,
            &[primary, exif, xmp, thumb],
            &props(),
            &bx(b"free", b"padding"),
        )
    }

    fn strip_ok(data: &[u8], policy: &Policy) -> (Vec<u8>, Report) {
        let mut out = Vec::new();
        let report = strip_into(data, policy, &mut out).unwrap();
        (out, report)
    }

    fn meta_of(data: &[u8]) -> Meta<'_> {
        let boxes = read_boxes(data).unwrap();
        let meta = boxes.iter().find(|b| &b.kind == b"meta").unwrap();
        parse_meta(meta).unwrap()
    }

    fn kinds(report: &Report) -> Vec<&'static str> {
        report.removed.iter().map(|r| r.kind).collect()
    }

    #[test]
    fn keeps_the_primary_image_alone() {
        let input = photo();
        let (out, report) = strip_ok(&input, &Policy::default());
        let meta = meta_of(&out);
        assert_eq!(meta.primary, Some(1));
        assert_eq!(meta.items.len(), 1);
        assert_eq!(&meta.items[0].kind, b"hvc1");
        let data: Vec<u8> = item_data(&out, &meta, 1).unwrap().concat();
        assert_eq!(data, b"PRIMARY-CODED-PICTURE");
        let kept: Vec<[u8; 4]> = meta.properties.iter().map(|p| p.kind).collect();
        assert_eq!(kept, vec![*b"hvcC", *b"ispe", *b"colr", *b"irot"]);
        let assoc = &meta.associations[&1];
        assert_eq!(assoc, &vec![(true, 0), (false, 1), (false, 2), (true, 3)]);
        assert!(meta.refs.is_empty());
        for gone in [
            &b"GPS-IS-HERE"[..],
            b"person",
            b"THUMBNAIL",
            b"someone",
            b"Apple",
            b"secret",
        ] {
            assert!(!out.windows(gone.len()).any(|w| w == gone), "{gone:?} left");
        }
        assert_eq!(
            kinds(&report),
            vec!["box", "item property", "exif", "xmp", "thumbnail"]
        );
        assert_eq!(report.format, Format::Heif);
    }

    #[test]
    fn output_is_stable_and_clean() {
        let (once, _) = strip_ok(&photo(), &Policy::default());
        let (twice, report) = strip_ok(&once, &Policy::default());
        assert_eq!(once, twice);
        assert!(report.removed.is_empty(), "{:?}", report.removed);
    }

    #[test]
    fn icc_profile_follows_the_policy() {
        let policy = Policy::parse("drop", "keep").unwrap();
        let (out, report) = strip_ok(&photo(), &policy);
        let meta = meta_of(&out);
        assert!(meta.properties.iter().all(|p| &p.kind != b"colr"));
        assert!(kinds(&report).contains(&"icc"));
        let nclx = bx(b"colr", b"nclx\0\x01\0\x0d\0\x01\x80");
        let mut primary = item(1, b"hvc1", b"P");
        primary.props = vec![(1, true)];
        let (out, _) = strip_ok(&build(1, &[primary], &[nclx], b""), &policy);
        assert!(meta_of(&out).properties.iter().any(|p| &p.kind == b"colr"));
    }

    #[test]
    fn grid_keeps_its_tiles_and_descriptor() {
        let mut grid = item(10, b"grid", b"\0\0\0\x01\0\x40\0\x30");
        grid.in_idat = true;
        grid.props = vec![(2, false)];
        grid.refs = vec![(*b"dimg", vec![1, 4])];
        let mut t1 = item(1, b"hvc1", b"TILE-ONE");
        t1.props = vec![(1, true)];
        let mut t2 = item(4, b"hvc1", b"TILE-TWO");
        t2.props = vec![(1, true)];
        let mut exif = item(5, b"Exif", b"EXIF");
        exif.refs = vec![(*b"cdsc", vec![10])];
        let input = build(10, &[grid, t1, t2, exif], &props(), b"");
        let (out, report) = strip_ok(&input, &Policy::default());
        let meta = meta_of(&out);
        let ids: Vec<u32> = meta.items.iter().map(|i| i.id).collect();
        assert_eq!(ids, vec![10, 1, 4]);
        assert_eq!(meta.refs.len(), 1);
        assert_eq!(meta.refs[0].to, vec![1, 4]);
        assert_eq!(
            item_data(&out, &meta, 10).unwrap().concat(),
            b"\0\0\0\x01\0\x40\0\x30"
        );
        assert_eq!(item_data(&out, &meta, 4).unwrap().concat(), b"TILE-TWO");
        assert!(kinds(&report).contains(&"exif"));
    }

    #[test]
    fn refuses_what_it_does_not_understand() {
        let refused = |data: &[u8]| {
            let mut out = Vec::new();
            strip_into(data, &Policy::default(), &mut out).unwrap_err()
        };
        // An alpha plane on the primary image.
        let mut primary = item(1, b"hvc1", b"P");
        primary.props = vec![(1, true)];
        let mut alpha = item(2, b"hvc1", b"A");
        alpha.props = vec![(2, true)];
        alpha.refs = vec![(*b"auxl", vec![1])];
        let aux = full(b"auxC", 0, 0, b"urn:mpeg:hevc:2015:auxid:1\0");
        let e = refused(&build(
            1,
            &[primary, alpha],
            &[props()[0].clone(), aux],
            b"",
        ));
        assert_eq!(e.kind(), "unsupported_format");
        assert!(e.message().contains("alpha"), "{e}");
        // An essential property it does not know.
        let mut primary = item(1, b"hvc1", b"P");
        primary.props = vec![(1, true)];
        let e = refused(&build(1, &[primary], &[bx(b"zzzz", b"x")], b""));
        assert!(e.message().contains("zzzz"), "{e}");
        // A primary image of another type.
        let e = refused(&build(1, &[item(1, b"jpeg", b"J")], &[], b""));
        assert!(e.message().contains("jpeg"), "{e}");
        // An image sequence.
        let e = refused(&build(1, &[item(1, b"hvc1", b"P")], &[], &bx(b"moov", b"")));
        assert!(e.message().contains("sequence"), "{e}");
    }

    #[test]
    fn depth_maps_and_gain_maps_go() {
        let mut primary = item(1, b"hvc1", b"P");
        primary.props = vec![(1, true)];
        let mut depth = item(2, b"hvc1", b"DEPTH-MAP");
        depth.props = vec![(2, true)];
        depth.refs = vec![(*b"auxl", vec![1])];
        let aux = full(b"auxC", 0, 0, b"urn:com:apple:photo:2020:aux:hdrgainmap\0");
        let input = build(1, &[primary, depth], &[props()[0].clone(), aux], b"");
        let (out, report) = strip_ok(&input, &Policy::default());
        assert_eq!(meta_of(&out).items.len(), 1);
        assert!(!out.windows(9).any(|w| w == b"DEPTH-MAP"));
        assert_eq!(kinds(&report), vec!["box", "auxiliary image"]);
    }

    #[test]
    fn damaged_files_are_errors_not_panics() {
        let input = photo();
        for cut in 0..input.len() {
            let mut out = Vec::new();
            let _ = strip_into(&input[..cut], &Policy::default(), &mut out);
        }
        let mut bad = photo();
        let at = bad.windows(4).position(|w| w == b"mdat").unwrap();
        bad.truncate(at + 10); // the primary image's data is cut
        let mut out = Vec::new();
        let e = strip_into(&bad, &Policy::default(), &mut out).unwrap_err();
        assert_eq!(e.kind(), "corrupt_input", "{e}");
    }
}
