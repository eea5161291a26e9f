// Your profile: your own name and phone (PATCH /api/users/me) and password (POST /api/users/me/password,
// the current one required).

import { api, ApiError, get, post } from "./api.js";
import { setText, show, showMessage } from "./dom.js";

// Field errors under their field, anything else in the form's banner.
function formErrors(form, bannerId) {
  return {
    clear() {
      for (const node of form.querySelectorAll("[data-error-for]")) node.textContent = "";
      for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
      show(bannerId, false);
    },
    show(error) {
      let placed = false;
      for (const [field, messages] of Object.entries(error instanceof ApiError ? error.fields : {})) {
        const slot = form.querySelector(`[data-error-for="${CSS.escape(field)}"]`);
        if (!slot) continue;
        slot.textContent = messages.join(" ");
        form.elements[field]?.setAttribute("aria-invalid", "true");
        placed = true;
      }
      if (!placed) showMessage(bannerId, error.message);
    },
  };
}

function wire(form, { banner, saved, button, send }) {
  const errors = formErrors(form, banner);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errors.clear();
    show(saved, false);
    document.getElementById(button).disabled = true;
    try {
      setText(show(saved), await send());
    } catch (error) {
      errors.show(error);
    } finally {
      document.getElementById(button).disabled = false;
    }
  });
  return errors;
}

const profile = document.getElementById("profile-form");
const password = document.getElementById("password-form");

function render(me) {
  setText("profile-email", `Logged in as ${me.email} (${me.role}).`);
  profile.elements.name.value = me.name;
  profile.elements.phone.value = me.phone ?? "";
}

const profileErrors = wire(profile, {
  banner: "profile-error", saved: "profile-saved", button: "profile-save",
  send: async () => {
    render(await api("PATCH", "/api/users/me", { name: profile.elements.name.value, phone: profile.elements.phone.value }));
    return "Saved.";
  },
});

wire(password, {
  banner: "password-error", saved: "password-saved", button: "password-save",
  send: async () => {
    await post("/api/users/me/password", {
      current_password: password.elements.current_password.value, new_password: password.elements.new_password.value,
    });
    password.reset();
    return "Your password is changed.";
  },
});

try {
  render(await get("/api/users/me"));
  document.body.dataset.profileLoaded = "true";
} catch (error) {
  profileErrors.show(error);
}
