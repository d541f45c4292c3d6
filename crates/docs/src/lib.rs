//! Documents: XLSX templates, import parsing and export.
