/* Clientside functions of the analysis cards and the Data page (dash ClientsideFunction,
   namespace "infoimb"). They only move small JSON between the page and the app-level stores;
   every computation happens on the server. */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  infoimb: {
    /* Run: pack the control values into the job request and remember them as the page's
       last inputs. args: n_clicks, {name, keys}, the settings store, then the values. */
    request: function (n, card, client) {
      const nu = window.dash_clientside.no_update;
      if (!n || !card) { return [nu, nu]; }
      const values = {};
      const given = Array.prototype.slice.call(arguments, 3);
      card.keys.forEach(function (k, i) { values[k] = given[i]; });
      const settings = client || {};
      const last = Object.assign({}, settings.last || {});
      last[card.name] = values;
      return [{t: Date.now(), n: n, values: values}, Object.assign({}, settings, {last: last})];
    },
    /* The page's settings as they change, kept in the settings store (local storage) under
       form[name] = {hash, values}, so that a reload brings them back (not only the last run's
       inputs). args: the synced control values, then {name, synced, options}, the settings
       store, the dataset store. A dropdown's null (the page before its table is known) is
       not remembered; nothing is written without a table or when nothing changed. */
    remember: function () {
      const nu = window.dash_clientside.no_update;
      const args = Array.prototype.slice.call(arguments);
      const dataset = args.pop();
      const client = args.pop();
      const card = args.pop();
      if (!card || !dataset || !dataset.content_hash) { return nu; }
      const settings = client || {};
      const forms = Object.assign({}, settings.form || {});
      const before = forms[card.name] || {};
      const values = Object.assign({}, before.hash === dataset.content_hash ? (before.values || {}) : {});
      const dropdowns = card.options || [];
      (card.synced || []).forEach(function (k, i) {
        const v = args[i] === undefined ? null : args[i];
        if (v === null && dropdowns.indexOf(k) >= 0) { return; }
        values[k] = v;
      });
      const entry = {hash: dataset.content_hash, values: values};
      if (JSON.stringify(entry) === JSON.stringify(before)) { return nu; }
      forms[card.name] = entry;
      return Object.assign({}, settings, {form: forms});
    },
    /* Cancel (and any other button that only needs "clicked at"). */
    stamp: function (n) {
      if (!n) { return window.dash_clientside.no_update; }
      return {t: Date.now(), n: n};
    },
    /* The running flag of a job: Run disabled, Cancel enabled, the progress bar and the
       "Running" note above the results shown. */
    running: function (running) {
      const on = running === true;
      const shown = on ? {} : {display: "none"};
      return [on, !on, shown, shown];
    },
    /* The progress of a job: the bar's value and label. */
    progress: function (p) {
      if (!p || p.value === undefined) { return [0, ""]; }
      return [p.value || 0, p.label || ""];
    },
    /* The Data page while a table loads: upload and example button disabled, the bar shown. */
    loading: function (busy) {
      const on = busy === true;
      return [on, on ? {} : {display: "none"}, on];
    },
    /* An upload: the request and the file's contents (kept apart, the contents are big). */
    uploadRequest: function (contents, filename) {
      const nu = window.dash_clientside.no_update;
      if (!contents) { return [nu, nu]; }
      return [{t: Date.now(), kind: "upload", filename: filename}, contents];
    },
    /* An example: its name and size. */
    exampleRequest: function (n, name, size) {
      if (!n) { return window.dash_clientside.no_update; }
      return {t: Date.now(), kind: "example", name: name, n: size};
    },
    /* The uploaded bytes are not needed in the browser once the job answered. */
    clear: function () { return null; },
    /* PNG / SVG buttons under a figure. */
    figureDownload: function (n, id) {
      if (!n) { return; }
      const container = document.getElementById(JSON.stringify({fig: id.fig, type: "graph"}));
      const gd = container && container.querySelector(".js-plotly-plot");
      if (!gd || !window.Plotly) { return; }
      const size = gd.getBoundingClientRect();
      window.Plotly.downloadImage(gd, {format: id.fmt, filename: "infoimb_" + id.fig,
        width: Math.round(size.width), height: Math.round(size.height), scale: id.fmt === "png" ? 2 : 1});
    }
  }
});
