// REST calls and the token pair. Tokens live in memory only (never in storage): a reload
// signs the person out, and no other script on the origin can read them from disk.

/** An error the server (or the network) reported, in words fit to show. */
export class ApiError extends Error {
  constructor(message, status = 0) {
    super(message);
    this.status = status;
  }
}

/** Seconds before expiry at which an access token is renewed before use. */
const RENEW_BEFORE_S = 20;

function expiresAt(jwt) {
  try {
    const payload = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload)).exp * 1000;
  } catch {
    return 0;
  }
}

async function errorOf(response) {
  let message = `${response.status} ${response.statusText}`.trim();
  try {
    const body = await response.json();
    if (body && typeof body.error === "string") message = body.error;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(message, response.status);
}

/** The JSON answer (null for 204 No Content). */
function answerOf(response) {
  return response.status === 204 ? null : response.json();
}

async function send(path, init, read = answerOf) {
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError("the server cannot be reached (network error)");
  }
  if (!response.ok) throw await errorOf(response);
  return read(response);
}

function postJson(path, body) {
  return send(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** The signed-in person's API: tokens, renewal, and the calls the page makes. */
export class Api {
  constructor() {
    this.access = null;
    this.refreshToken = null;
    this.renewing = null;
    /** Called with the server's words when the session cannot be renewed. */
    this.onSignedOut = () => {};
  }

  get signedIn() {
    return this.access !== null;
  }

  keep(answer) {
    this.access = answer.access;
    // The server rotates refresh tokens: the old one is spent once this one arrives.
    if (answer.refresh) this.refreshToken = answer.refresh;
    return answer;
  }

  signOut() {
    this.access = this.refreshToken = null;
  }

  async register(fields) {
    return this.keep(await postJson("/api/auth/register/", fields));
  }

  async login(email, password) {
    return this.keep(await postJson("/api/auth/login/", { email, password }));
  }

  /** Renew the pair; one renewal at a time (a rotated token may be spent only once). */
  renew() {
    if (!this.renewing) {
      this.renewing = this.doRenew().finally(() => {
        this.renewing = null;
      });
    }
    return this.renewing;
  }

  async doRenew() {
    if (!this.refreshToken) throw new ApiError("not signed in", 401);
    try {
      this.keep(await postJson("/api/auth/token/refresh/", { refresh: this.refreshToken }));
    } catch (error) {
      if (error.status === 401 || error.status === 400 || error.status === 422) {
        this.expel(error.message);
      }
      throw error;
    }
  }

  /** An access token good for a while yet (renewed first when close to expiry). */
  async freshAccess() {
    if (!this.access) throw new ApiError("not signed in", 401);
    if (expiresAt(this.access) - Date.now() < RENEW_BEFORE_S * 1000) await this.renew();
    return this.access;
  }

  /** A request with the bearer token; a 401 renews the pair once and tries again.
   * ``read`` turns the response into the answer (JSON by default). */
  async authed(path, init = {}, read = answerOf) {
    const call = async () => {
      const headers = { ...(init.headers || {}), Authorization: `Bearer ${await this.freshAccess()}` };
      return send(path, { ...init, headers }, read);
    };
    try {
      return await call();
    } catch (error) {
      if (error.status !== 401) throw error;
      if (this.refreshToken) {
        await this.renew(); // signs out itself when refused
        try {
          return await call();
        } catch (again) {
          if (again.status === 401) this.expel(again.message);
          throw again;
        }
      }
      this.expel(error.message);
      throw error;
    }
  }

  /** GET with the bearer token (JSON). */
  get(path) {
    return this.authed(path);
  }

  /** A JSON body with the bearer token. */
  sendJson(method, path, body) {
    return this.authed(path, {
      method,
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  }

  expel(message) {
    this.signOut();
    this.onSignedOut(message);
  }

  history() {
    return this.get("/api/exercises/history/?limit=20");
  }

  stats() {
    return this.get("/api/auth/stats/");
  }

  /** Per-day and per-exercise figures over the last ``days`` days (extension). */
  progress(days) {
    return this.get(`/api/exercises/progress/?days=${encodeURIComponent(days)}`);
  }

  /** One session with its per-rep details (extension). */
  session(id) {
    return this.get(`/api/exercises/history/${encodeURIComponent(id)}/`);
  }

  /** An upload's analysis: status, progress, and the summary once done. */
  analysis(id) {
    return this.get(`/api/exercises/analyses/${encodeURIComponent(id)}/`);
  }

  /** Change the password; the server answers a new pair for this device. */
  async changePassword(oldPassword, newPassword) {
    return this.keep(
      await this.sendJson("POST", "/api/auth/password/", {
        old_password: oldPassword,
        new_password: newPassword,
      }),
    );
  }

  /** Everything held about the person, as a Blob (``format``: "json" or "csv"). */
  exportData(format) {
    const path = format === "csv" ? "/api/auth/export/?format=csv" : "/api/auth/export/";
    return this.authed(path, {}, (response) => response.blob());
  }

  /** Delete the account (the password confirms); signed out afterwards. */
  async deleteAccount(password) {
    await this.sendJson("DELETE", "/api/auth/account/", { password });
    this.signOut();
  }
}
