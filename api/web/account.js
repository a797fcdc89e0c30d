// The person's account: change the password (other devices are signed out at their next
// refresh), download everything held about them (JSON, or the sessions as CSV), and delete
// the account (the password typed again and an explicit confirmation).

const FILE_NAMES = { json: "posecoach-export.json", csv: "posecoach-sessions.csv" };

/** Save a Blob as a file the browser downloads. */
function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export class AccountPanel {
  /**
   * @param {object} options api, onDeleted() once the account is gone.
   */
  constructor({ api, onDeleted }) {
    this.api = api;
    this.onDeleted = onDeleted;
    this.$ = (id) => document.getElementById(id);
    this.$("password-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.changePassword(event.target);
    });
    for (const format of ["json", "csv"]) {
      this.$(`export-${format}`).addEventListener("click", () => this.download(format));
    }
    this.$("delete-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.deleteAccount(event.target);
    });
  }

  say(text) {
    this.$("account-status").textContent = text;
  }

  async changePassword(form) {
    const current = form.elements.old_password.value;
    const next = form.elements.new_password.value;
    if (next !== form.elements.new_password_again.value) {
      this.say("The new password and its repetition differ.");
      form.elements.new_password_again.focus();
      return;
    }
    try {
      await this.api.changePassword(current, next);
      form.reset();
      this.say("Password changed. Your other devices will be asked to log in again.");
    } catch (error) {
      this.say(`The password was not changed: ${error.message}`);
    }
  }

  async download(format) {
    const button = this.$(`export-${format}`);
    button.disabled = true;
    try {
      saveBlob(await this.api.exportData(format), FILE_NAMES[format]);
      this.say(`Your data is downloaded (${FILE_NAMES[format]}).`);
    } catch (error) {
      this.say(`Could not download your data: ${error.message}`);
    } finally {
      button.disabled = false;
    }
  }

  async deleteAccount(form) {
    if (!form.elements.confirm.checked) {
      this.say("Tick the box to confirm that everything is to be deleted.");
      form.elements.confirm.focus();
      return;
    }
    try {
      await this.api.deleteAccount(form.elements.password.value);
      form.reset();
      this.say("");
      this.onDeleted();
    } catch (error) {
      this.say(`The account was not deleted: ${error.message}`);
    }
  }
}
