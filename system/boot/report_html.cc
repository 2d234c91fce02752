#include "system/boot/report_html.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "guest-model/vfio/verdict.h"
#include "system/boot/report_format.h"

namespace viommu::system::boot {

namespace {

// Verdict colours (also the matrix legend): admitted, admitted without isolation, rejected, none.
constexpr const char* kStyle = R"(<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}
th{background:#f2f2f2}code,.mono{font-family:ui-monospace,monospace;font-size:12px}
.admitted{background:#c8f0c8}.unsafe{background:#fff1b8}.rejected{background:#f8c8c8}.none{color:#888}
.tree ul{list-style:none;margin:0;padding-left:1.4em;border-left:1px dotted #aaa}.tree>ul{border:0;padding:0}
.groups{display:flex;flex-wrap:wrap;gap:10px}
.group{border:2px solid #579;border-radius:6px;padding:6px 10px;min-width:14em}
.group h3{margin:0 0 4px;font-size:1em}
.card{border-left:5px solid #ccc;padding:4px 10px;margin:8px 0}
.card.rejected{border-color:#c33;background:#fdf0f0}.card.admitted{border-color:#3a3;background:#f0fdf0}
.card.unsafe{border-color:#cc9a00;background:#fffbe8}
pre{background:#f7f7f7;padding:6px;overflow:auto;max-height:30em}
</style>
)";

std::string page(std::string_view title, std::string_view body, std::string_view script = {})
{
    return fmt::format("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\n{}</head>"
                       "<body>\n{}{}</body></html>\n",
                       html_escape(title), kStyle, body,
                       script.empty() ? std::string() : fmt::format("<script>{}</script>\n", script));
}

// The class a verdict is coloured by.
const char* verdict_class(const DeviceReport& d)
{
    if (!d.vfio)
        return "none";
    if (!d.vfio->admitted)
        return "rejected";
    return d.vfio->unsafe ? "unsafe" : "admitted";
}

const char* cell_class(std::string_view cell)
{
    if (cell == "ok")
        return "admitted";
    if (cell == "ok!")
        return "unsafe";
    if (cell.empty() || cell == "-" || cell == "?" || cell.front() == 'g') // no VFIO verdict: "g3", "-"
        return "none";
    return "rejected";
}

std::string group_text(const std::optional<int>& group)
{
    return group ? std::to_string(*group) : "-";
}

// One device of the tree: what it is, its driver, group and verdict.
std::string tree_item(const DeviceReport& d)
{
    return fmt::format("<code>{}</code> {} &mdash; driver <b>{}</b>, group <b>{}</b>{}{}", html_escape(d.bdf),
                       html_escape(d.label), html_escape(d.driver.empty() ? "none" : d.driver), group_text(d.group),
                       d.domain.empty() ? "" : fmt::format(" ({})", html_escape(d.domain)),
                       d.vfio ? fmt::format(" <span class=\"{}\" data-verdict=\"{}\">{}</span>", verdict_class(d),
                                            html_escape(d.bdf), html_escape(verdict_text(d)))
                              : "");
}

// The PCI tree: each bus's devices in bus order, each bridge's secondary bus below it.
void tree(const std::vector<DeviceReport>& devices, const std::string& parent, std::string& out)
{
    std::string items;
    for (const DeviceReport& d : devices) {
        if (d.parent != parent)
            continue;
        items += "<li>" + tree_item(d);
        tree(devices, d.bdf, items);
        items += "</li>\n";
    }
    if (!items.empty())
        out += "<ul>\n" + items + "</ul>\n";
}

std::string groups(const std::vector<DeviceReport>& devices)
{
    std::map<int, std::vector<const DeviceReport*>> by_group;
    for (const DeviceReport& d : devices)
        if (d.group)
            by_group[*d.group].push_back(&d);
    if (by_group.empty())
        return "<p>No device has an IOMMU group.</p>\n";
    std::string out = "<div class=\"groups\">\n";
    for (const auto& [id, members] : by_group) {
        out += fmt::format("<div class=\"group\" data-group=\"{}\"><h3>group {} &mdash; {}</h3>", id, id,
                           html_escape(members.front()->domain.empty() ? "no domain" : members.front()->domain));
        for (const DeviceReport* d : members)
            out += fmt::format("<div><code>{}</code> {}</div>", html_escape(d->bdf), html_escape(d->label));
        for (const std::string& r : members.front()->reserved_regions)
            out += fmt::format("<div class=\"mono none\">{}</div>", html_escape(r));
        out += "</div>\n";
    }
    return out + "</div>\n";
}

std::string verdict_card(const DeviceReport& d)
{
    const guest::vfio::Verdict& v = *d.vfio;
    std::string out = fmt::format("<div class=\"card {}\"><b><code>{}</code> {}: {}</b>", verdict_class(d),
                                  html_escape(d.bdf), html_escape(d.label), html_escape(verdict_text(d)));
    if (!v.reason.empty())
        out += fmt::format("<div>why: {}</div>", html_escape(v.reason));
    out += fmt::format("<div>rule: <code>{}</code>{}</div>", html_escape(guest::vfio::rule_key(v.rule)),
                       v.commit.empty() ? "" : fmt::format(" (commit <code>{}</code>)", html_escape(v.commit)));
    if (!v.log.empty())
        out += fmt::format("<div>log: <code>{}</code></div>", html_escape(v.log));
    for (const std::string& r : v.remedies)
        out += fmt::format("<div>change: {}</div>", html_escape(r));
    return out + "</div>\n";
}

} // namespace

std::string html_escape(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default:
            if ((static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
                out += "&#xfffd;";
            else
                out += c;
        }
    }
    return out;
}

std::string render_html(const GuestReport& r)
{
    std::string body = fmt::format("<h1>guest {} on Linux {} ({})</h1>\n<p>{}, {}; virtio-iommu: {}; VFIO user: {}</p>\n",
                                   html_escape(r.guest), html_escape(r.kernel_version), html_escape(r.kernel),
                                   guest::profiles::arch_name(r.arch),
                                   tables_text(r.tables),
                                   html_escape(r.iommu.present ? (r.iommu.driver_ready
                                                                      ? fmt::format("{} at {}, {} requests, {} faults",
                                                                                    r.iommu.device, r.iommu.bdf,
                                                                                    r.iommu.requests, r.iommu.faults)
                                                                      : "not in use: " + r.iommu.why_not)
                                                              : "none in this machine"),
                                   guest::vfio::backend_name(r.vfio_user));
    body += "<h2>Devices</h2>\n<div class=\"tree\">\n";
    tree(r.devices, "", body);
    body += "</div>\n<h2>IOMMU groups</h2>\n" + groups(r.devices);
    std::string cards;
    for (const DeviceReport& d : r.devices)
        if (d.vfio)
            cards += verdict_card(d);
    if (!cards.empty())
        body += "<h2>VFIO verdicts</h2>\n" + cards;
    if (!r.warnings.empty()) {
        body += "<h2>Warnings</h2>\n<ul>\n";
        for (const std::string& w : r.warnings)
            body += "<li>" + html_escape(w) + "</li>\n";
        body += "</ul>\n";
    }
    body += "<details><summary>Kernel log</summary><pre>" + html_escape(r.dmesg) + "</pre></details>\n";
    return page("viommu-boot: " + r.guest, body);
}

std::string render_matrix_html(const KernelMatrix& m)
{
    std::string body = fmt::format("<h1>guest {}: VFIO verdicts per kernel</h1>\n<p>{}</p>\n", html_escape(m.guest),
                                   html_escape(m.heading));
    body += "<p>Legend: <span class=\"admitted\">ok</span> admitted, <span class=\"unsafe\">ok!</span> admitted "
            "without isolation, <span class=\"rejected\">ERRNO@stage</span> rejected; the small number is the "
            "IOMMU group.</p>\n<table id=\"matrix\"><tr><th>device</th><th>what</th>";
    for (const std::string& k : m.kernels)
        body += "<th>" + html_escape(k) + "</th>";
    body += "</tr>\n";
    for (const KernelMatrix::Row& row : m.rows) {
        body += fmt::format("<tr><td><code>{}</code></td><td>{}</td>", html_escape(row.bdf), html_escape(row.label));
        for (std::size_t i = 0; i < row.cells.size(); ++i) {
            const std::optional<int> group = i < row.groups.size() ? row.groups[i] : std::nullopt;
            body += fmt::format("<td class=\"{}\" data-kernel=\"{}\">{}{}</td>", cell_class(row.cells[i]),
                                html_escape(i < m.kernels.size() ? m.kernels[i] : ""), html_escape(row.cells[i]),
                                group ? fmt::format(" <sub>{}</sub>", *group) : "");
        }
        body += "</tr>\n";
    }
    return page("viommu-boot --compare-kernels: " + m.guest, body + "</table>\n");
}

std::string render_batch_html(const std::vector<BatchEntry>& entries)
{
    std::map<std::string, int> tally;
    for (const BatchEntry& e : entries)
        ++tally[e.status];
    std::string body = fmt::format("<h1>viommu-boot --batch: {} guests</h1>\n<p id=\"filters\">", entries.size());
    for (const auto& [status, n] : tally)
        body += fmt::format("<label><input type=\"checkbox\" checked data-status=\"{}\"> {} ({})</label> ",
                            html_escape(status), html_escape(status), n);
    body += "<input id=\"text\" placeholder=\"filter by name\"></p>\n<table id=\"guests\"><tr><th>file</th><th>guest</th>"
            "<th>status</th><th>detail</th></tr>\n";
    for (const BatchEntry& e : entries) {
        const char* cls = e.status == "admitted" ? "admitted" : e.status == "rejected" ? "rejected" : "none";
        body += fmt::format("<tr data-status=\"{}\"><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td></tr>\n",
                            html_escape(e.status), html_escape(e.file), html_escape(e.guest), cls,
                            html_escape(e.status), html_escape(e.detail));
    }
    body += "</table>\n";
    // Rows hide when their status is unticked or their text does not hold the filter; a link can carry the
    // text filter as #q=TEXT.
    constexpr const char* kScript =
        "function f(){const on=new Set([...document.querySelectorAll('#filters input[data-status]')]"
        ".filter(c=>c.checked).map(c=>c.dataset.status));const t=document.getElementById('text').value.toLowerCase();"
        "for(const r of document.querySelectorAll('#guests tr[data-status]'))"
        "r.style.display=on.has(r.dataset.status)&&r.textContent.toLowerCase().includes(t)?'':'none';}"
        "document.getElementById('filters').addEventListener('input',f);"
        "if(location.hash.startsWith('#q=')){document.getElementById('text').value="
        "decodeURIComponent(location.hash.slice(3));f();}";
    return page("viommu-boot --batch", body, kScript);
}

} // namespace viommu::system::boot
