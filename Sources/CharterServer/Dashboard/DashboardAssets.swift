import HTTPTypes
import Hummingbird

/// The dashboard's one stylesheet and one script, served from memory: no build step, no external asset.
enum DashboardAssets {
    static func response(_ text: String, type: String) -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: "\(type); charset=utf-8", .cacheControl: "public, max-age=300",
                HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static let css = """
        :root { --ink: #1d2430; --muted: #5f6b7a; --line: #dde3ea; --bg: #f6f8fa; --accent: #2456c7;
          --danger: #b42318; --ok: #137333; --warn: #8a5a00; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
        * { box-sizing: border-box; }
        body { margin: 0; color: var(--ink); background: var(--bg); font-size: 15px; line-height: 1.45; }
        main { max-width: 1200px; margin: 0 auto; padding: 1rem 1.25rem 3rem; }
        h1 { font-size: 1.5rem; margin: .75rem 0 1rem; }
        h2 { font-size: 1.15rem; margin: 0; }
        a { color: var(--accent); }
        code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85em; }
        .key-label { font-weight: 600; }
        code.wrap { word-break: break-all; }
        .top { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1.25rem; padding: .6rem 1.25rem;
          background: #fff; border-bottom: 1px solid var(--line); }
        .top .brand { font-weight: 700; color: var(--ink); text-decoration: none; }
        .top nav { display: flex; flex-wrap: wrap; gap: 1rem; }
        .top nav a { text-decoration: none; }
        .top .who { margin-left: auto; display: flex; align-items: center; gap: .75rem; color: var(--muted); }
        .top .who form { margin: 0; }
        .card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 1rem; margin: 0 0 1rem; }
        .narrow { max-width: 28rem; }
        .inline { display: flex; flex-wrap: wrap; gap: .75rem; align-items: flex-end; }
        .stack { display: flex; flex-direction: column; gap: .75rem; }
        label { display: flex; flex-direction: column; gap: .25rem; font-weight: 500; }
        label.check { flex-direction: row; align-items: center; gap: .4rem; font-weight: 400; }
        input, select, textarea { font: inherit; padding: .45rem .55rem; border: 1px solid #c5ced8; border-radius: 6px;
          background: #fff; min-width: 0; }
        fieldset { border: 1px solid var(--line); border-radius: 6px; display: flex; flex-wrap: wrap; gap: .4rem 1rem; }
        button, .button { font: inherit; display: inline-block; padding: .45rem .9rem; border-radius: 6px; border: 1px solid var(--accent);
          background: var(--accent); color: #fff; cursor: pointer; text-decoration: none; }
        button.secondary { background: #fff; color: var(--accent); }
        button.danger { background: #fff; color: var(--danger); border-color: var(--danger); }
        button.small { padding: .2rem .55rem; font-size: .85rem; }
        button.link { background: none; border: none; color: var(--accent); padding: 0; }
        .buttons { display: flex; flex-wrap: wrap; gap: .5rem; justify-content: flex-end; margin-bottom: 1rem; }
        .buttons form { margin: 0; }
        .section-head { display: flex; justify-content: space-between; align-items: center; margin: 1rem 0 .5rem; }
        .scroll { overflow-x: auto; background: #fff; border: 1px solid var(--line); border-radius: 8px; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; padding: .5rem .65rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { font-size: .8rem; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); white-space: nowrap; }
        td.number { text-align: right; font-variant-numeric: tabular-nums; }
        td.actions { display: flex; gap: .35rem; }
        td.actions form { margin: 0; }
        .status, .tag { display: inline-block; padding: .05rem .5rem; border-radius: 999px; font-size: .8rem; background: #eef1f4; }
        .status.active, .status.success { background: #e6f4ea; color: var(--ok); }
        .status.revoked, .status.denied, .status.failure, .status.expired { background: #fdecea; color: var(--danger); }
        .status.verify_only { background: #fff4e0; color: var(--warn); }
        .tag.live { background: #e8f0fe; color: var(--accent); }
        .notice { padding: .6rem .8rem; border-radius: 6px; margin: 0 0 1rem; }
        .notice.error { background: #fdecea; color: var(--danger); }
        .notice.warning { background: #fff4e0; color: var(--warn); }
        .hint, .meta { color: var(--muted); font-size: .9rem; }
        .copy-row { display: flex; gap: .5rem; }
        .copy-row input { flex: 1; font-family: ui-monospace, Menlo, monospace; }
        dialog { border: 1px solid var(--line); border-radius: 10px; padding: 1.25rem; width: min(36rem, 95vw); }
        dialog::backdrop { background: rgba(20, 28, 40, .4); }
        @media (max-width: 640px) {
          main { padding: .75rem; }
          .top .who { margin-left: 0; width: 100%; justify-content: space-between; }
          .inline { flex-direction: column; align-items: stretch; }
          th, td { padding: .4rem .45rem; }
        }
        """

    static let javascript = """
        "use strict";
        document.addEventListener("DOMContentLoaded", () => {
          // Forms that destroy something ask first, naming what they destroy.
          for (const form of document.querySelectorAll("form[data-confirm]")) {
            form.addEventListener("submit", (event) => {
              if (!window.confirm(form.dataset.confirm)) event.preventDefault();
            });
          }
          for (const button of document.querySelectorAll("[data-open-dialog]")) {
            button.addEventListener("click", () => document.getElementById(button.dataset.openDialog).showModal());
          }
          for (const button of document.querySelectorAll("[data-close-dialog]")) {
            button.addEventListener("click", () => button.closest("dialog").close());
          }
          const role = document.getElementById("key-role");
          const permissions = document.getElementById("key-permissions");
          const roleError = document.getElementById("role-error");
          if (role && permissions) {
            role.addEventListener("change", () => {
              permissions.hidden = role.value !== "custom";
              roleError.hidden = true;
            });
            document.getElementById("create-key-form").addEventListener("submit", (event) => {
              const custom = role.value === "custom";
              const checked = permissions.querySelectorAll("input:checked").length;
              if (!role.value || (custom && checked === 0)) {
                roleError.hidden = false;
                event.preventDefault();
              }
            });
          }
          const expiresOn = document.getElementById("expires-on");
          if (expiresOn) {
            const tomorrow = new Date(Date.now() + 86400000).toISOString().slice(0, 10);
            expiresOn.min = tomorrow;
            expiresOn.addEventListener("focus", () => {
              document.querySelector('input[name="expiry"][value="custom"]').checked = true;
            });
          }
          for (const button of document.querySelectorAll("[data-copy-target]")) {
            button.addEventListener("click", async () => {
              const input = document.getElementById(button.dataset.copyTarget);
              const status = document.getElementById("copy-status");
              try {
                await navigator.clipboard.writeText(input.value);
              } catch {
                input.select();
                document.execCommand("copy");
              }
              status.textContent = "Copied to the clipboard.";
            });
          }
        });
        """
}
