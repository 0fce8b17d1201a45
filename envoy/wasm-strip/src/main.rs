//! `jwtgate-wasm-strip IN OUT NAME...`: copies the module IN to OUT without the exports
//! NAME... (every section byte for byte, the export section re-encoded without them), then
//! validates OUT. Fails if a NAME is not exported, so that a renamed callback is noticed.

use std::process::ExitCode;
use wasm_encoder::{ExportKind, ExportSection, RawSection, Section};
use wasmparser::{ExternalKind, Parser, Payload, Validator};

fn strip(input: &[u8], remove: &[String]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(input.len());
    let mut removed = Vec::new();
    for payload in Parser::new(0).parse_all(input) {
        let payload = payload.map_err(|e| format!("not a wasm module: {e}"))?;
        match payload {
            Payload::Version { range, .. } => out.extend_from_slice(&input[range]),
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => {
                return Err("components are not supported".into())
            }
            Payload::ExportSection(reader) => {
                let mut section = ExportSection::new();
                for export in reader {
                    let export = export.map_err(|e| format!("export section: {e}"))?;
                    if remove.iter().any(|r| r == export.name) {
                        removed.push(export.name.to_owned());
                        continue;
                    }
                    let kind = match export.kind {
                        ExternalKind::Func | ExternalKind::FuncExact => ExportKind::Func,
                        ExternalKind::Table => ExportKind::Table,
                        ExternalKind::Memory => ExportKind::Memory,
                        ExternalKind::Global => ExportKind::Global,
                        ExternalKind::Tag => ExportKind::Tag,
                    };
                    section.export(export.name, kind, export.index);
                }
                section.append_to(&mut out);
            }
            other => {
                if let Some((id, range)) = other.as_section() {
                    RawSection {
                        id,
                        data: &input[range],
                    }
                    .append_to(&mut out);
                }
            }
        }
    }
    let missing: Vec<&String> = remove.iter().filter(|r| !removed.contains(r)).collect();
    if !missing.is_empty() {
        return Err(format!("not exported: {missing:?}"));
    }
    Validator::new()
        .validate_all(&out)
        .map_err(|e| format!("the stripped module does not validate: {e}"))?;
    Ok(out)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output, remove @ ..] = args.as_slice() else {
        eprintln!("usage: jwtgate-wasm-strip IN.wasm OUT.wasm EXPORT...");
        return ExitCode::from(2);
    };
    let result = std::fs::read(input)
        .map_err(|e| format!("{input}: {e}"))
        .and_then(|bytes| strip(&bytes, remove))
        .and_then(|bytes| std::fs::write(output, bytes).map_err(|e| format!("{output}: {e}")));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("jwtgate-wasm-strip: {e}");
            ExitCode::FAILURE
        }
    }
}
