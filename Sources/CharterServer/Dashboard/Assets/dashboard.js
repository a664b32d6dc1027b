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
