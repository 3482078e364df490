import LoadDriver
/// The report's stylesheet (inline, light, print-friendly). Contains no `<` or `&`, so the page stays well-formed XML.
enum ReportStyle {
    static let css = """
    :root { --fg: #0f172a; --muted: #64748b; --line: #e2e8f0; --bg: #f8fafc; --card: #ffffff;
            --pass: #15803d; --pass-bg: #dcfce7; --fail: #b91c1c; --fail-bg: #fee2e2; --warn-bg: #fef3c7; --warn: #92400e; }
    * { box-sizing: border-box; }
    body { margin: 0; padding: 24px 28px 40px; background: var(--bg); color: var(--fg);
           font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif; }
    h1 { font-size: 24px; margin: 0 0 6px; }
    h2 { font-size: 20px; margin: 0; }
    h3 { font-size: 15px; margin: 22px 0 8px; color: #1e293b; }
    h4 { font-size: 13.5px; margin: 0 0 6px; color: #1e293b; font-weight: 600; }
    code { font: 12.5px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
    header.page { margin-bottom: 18px; }
    header.page .meta { margin: 0 0 8px; color: #334155; }
    nav a { display: inline-block; margin: 2px 6px 2px 0; padding: 2px 10px; border-radius: 12px; background: #e2e8f0;
            color: #1e293b; text-decoration: none; font-size: 13px; }
    nav a.fail { background: var(--fail-bg); color: var(--fail); }
    nav a.pass { background: var(--pass-bg); color: var(--pass); }
    .card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 18px 20px; margin: 0 0 22px;
            box-shadow: 0 1px 2px rgba(15, 23, 42, 0.04); }
    .scenario.fail { border-top: 4px solid var(--fail); }
    .scenario.pass { border-top: 4px solid var(--pass); }
    .scenario-head { display: flex; align-items: center; gap: 12px; }
    .facts { color: #334155; margin: 6px 0 4px; }
    .source { color: var(--muted); font-size: 12px; margin: 0; }
    .verdict { display: inline-block; padding: 1px 9px; border-radius: 10px; font-size: 12px; font-weight: 700; letter-spacing: 0.03em; }
    .verdict.pass { background: var(--pass-bg); color: var(--pass); }
    .verdict.fail { background: #dc2626; color: #ffffff; }
    .verdict.neutral { background: #e5e7eb; color: #374151; }
    .warning { background: var(--warn-bg); color: var(--warn); padding: 8px 12px; border-radius: 6px; margin: 8px 0; }
    .muted { color: var(--muted); }
    .bad { color: var(--fail); }
    .good { color: var(--pass); }
    .kpis { display: flex; flex-wrap: wrap; gap: 10px; margin: 14px 0 4px; }
    .kpi { flex: 1 1 120px; border: 1px solid var(--line); border-radius: 8px; padding: 8px 12px; background: #fcfdfe; }
    .kpi .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: 0.04em; }
    .kpi .value { font-size: 19px; font-weight: 650; font-variant-numeric: tabular-nums; }
    .kpi .sub { color: var(--muted); font-size: 12px; }
    table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
    th, td { border-bottom: 1px solid var(--line); padding: 5px 10px; text-align: left; vertical-align: top; }
    thead th { background: #f1f5f9; font-size: 12.5px; color: #334155; white-space: nowrap; }
    td.num, th.num { text-align: right; white-space: nowrap; }
    tbody tr:nth-child(even) { background: #fbfcfe; }
    tr.fail td { background: var(--fail-bg); }
    tr.regression td { background: var(--fail-bg); }
    table.kv th { background: transparent; font-weight: 500; color: #334155; white-space: nowrap; }
    td.note { color: #475569; font-size: 12.5px; max-width: 460px; }
    td.detail code { white-space: pre-wrap; word-break: break-word; }
    .scroll { overflow-x: auto; }
    table.summary td, table.summary th { padding: 6px 9px; }
    .delta { font-size: 11.5px; font-weight: 600; padding: 0 4px; border-radius: 4px; }
    .delta.regression { background: var(--fail); color: #ffffff; }
    .delta.worse { color: #b45309; }
    .delta.better { color: var(--pass); }
    .delta.unchanged, .delta.unavailable { color: var(--muted); font-weight: 500; }
    td.regression { color: var(--fail); font-weight: 700; }
    .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 16px; margin-top: 18px; }
    .chart-card { margin: 0; border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px 8px; background: #ffffff; }
    .chart-card svg { width: 100%; height: auto; display: block; }
    .chart-card figcaption { color: var(--muted); font-size: 12.5px; margin-top: 4px; }
    .tables { display: flex; flex-wrap: wrap; gap: 10px 36px; align-items: flex-start; }
    .code { font-weight: 700; padding: 0 6px; border-radius: 4px; }
    .code.s2xx { background: var(--pass-bg); color: var(--pass); }
    .code.s4xx { background: var(--warn-bg); color: var(--warn); }
    .code.s5xx { background: var(--fail-bg); color: var(--fail); }
    .swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
    tr.total td { font-weight: 600; }
    details { margin: 10px 0; }
    details summary { cursor: pointer; color: #334155; font-weight: 600; }
    .conclusion { font-size: 16px; margin: 8px 0 4px; }
    footer { color: var(--muted); font-size: 12px; margin-top: 26px; }
    @media print { body { background: #ffffff; padding: 0; } .card { break-inside: avoid; box-shadow: none; } }

    """
}
