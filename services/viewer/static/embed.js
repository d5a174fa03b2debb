// The sign-in of a framed report (services/viewer/embed.py): the frame opens the sign-in in
// a popup, because identity providers refuse to be framed; the popup's last page hands a
// code back to the frame, to this origin only, and closes; the frame posts the code with
// its CSRF token and shows the report.
(function () {
  "use strict";
  var button = document.getElementById("embed-signin");
  if (button) {
    var popup = null;
    button.addEventListener("click", function (event) {
      popup = window.open(button.href, "iris-signin", "popup=yes,width=520,height=720");
      if (popup) {
        event.preventDefault();
      }
    });
    window.addEventListener("message", function (event) {
      if (event.origin !== window.location.origin || event.source !== popup) {
        return;
      }
      if (!event.data || event.data.type !== "iris-signed-in") {
        return;
      }
      fetch(button.dataset.session, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          "X-CSRF-Token": button.dataset.csrf
        },
        body: "code=" + encodeURIComponent(event.data.code)
      }).then(function () {
        window.location.reload();
      });
    });
  }
  var done = document.getElementById("embed-signed-in");
  if (done && window.opener) {
    window.opener.postMessage(
      {type: "iris-signed-in", code: done.dataset.handoff},
      window.location.origin
    );
    window.close();
  }
})();
