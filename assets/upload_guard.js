/* Refuse a file over the upload limit *visibly*: dcc.Upload drops it silently (max_size).
   The limit comes from the data-max-bytes attribute of the element around the upload. */
(function () {
  function human(n) {
    if (n >= 1048576) { return (n / 1048576).toFixed(1) + " MB"; }
    if (n >= 1024) { return (n / 1024).toFixed(1) + " kB"; }
    return n + " bytes";
  }
  function check(files, target) {
    const guard = target && target.closest ? target.closest("[data-max-bytes]") : null;
    if (!guard || !files || !files.length) { return; }
    const max = Number(guard.getAttribute("data-max-bytes"));
    const f = files[0];
    if (max > 0 && f.size > max) {
      const msg = {color: "danger", details: [],
                   text: f.name + " is " + human(f.size) + "; the upload limit is " +
                         guard.getAttribute("data-max-mb") + " MB. The file was not uploaded.",
                   at: Date.now() / 1000};
      if (window.dash_clientside && window.dash_clientside.set_props) {
        window.dash_clientside.set_props("data-message-store", {data: msg});
      }
    }
  }
  document.addEventListener("change", function (e) {
    if (e.target && e.target.type === "file") { check(e.target.files, e.target); }
  }, true);
  document.addEventListener("drop", function (e) {
    if (e.dataTransfer) { check(e.dataTransfer.files, e.target); }
  }, true);
})();
