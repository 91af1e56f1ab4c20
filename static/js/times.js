/* Times as people read them: a <time data-relative datetime="…"> shows "3 hours ago",
   "yesterday" or "2 Dec 2026" in the operator's time zone, and its absolute time with the zone
   on hover (title). The operator's zone is the one chosen on the Preferences page (<html
   data-time-zone>), else the browser's; the browser's is reported to the server in the
   portal_tz cookie (portal/time_zones.py), which renders its own times in the same zone.
   The server's text is what shows without JavaScript. Rewritten on load, on every htmx swap,
   and each minute. */
(function () {
  "use strict";

  var browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  var zone = document.documentElement.getAttribute("data-time-zone") || browserZone;
  var secure = window.location.protocol === "https:" ? "; Secure" : "";
  // Zone names are letters, digits and _ / + - (the server checks it is a zone).
  if (/^[A-Za-z0-9_\/+-]{1,64}$/.test(browserZone)) {
    document.cookie = "portal_tz=" + browserZone + "; path=/; max-age=31536000; SameSite=Lax" +
      secure;
  }

  function formats(name) {
    return {
      day: new Intl.DateTimeFormat("en-GB", {
        day: "numeric", month: "short", year: "numeric", timeZone: name
      }),
      absolute: new Intl.DateTimeFormat("en-GB", {
        day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
        second: "2-digit", timeZoneName: "short", timeZone: name
      }),
      ymd: new Intl.DateTimeFormat("en-CA", {
        year: "numeric", month: "2-digit", day: "2-digit", timeZone: name
      })
    };
  }
  var format;
  try {
    format = formats(zone);
  } catch (error) {  // a zone this browser does not know: its own
    zone = browserZone;
    format = formats(zone);
  }
  var day = format.day, absolute = format.absolute, ymd = format.ymd;

  function plural(count, unit) {
    return count + " " + unit + (count === 1 ? "" : "s") + " ago";
  }

  /* The calendar day of a moment in the operator's zone, as a number of days. */
  function dayNumber(moment) {
    return Math.round(Date.parse(ymd.format(moment) + "T00:00:00Z") / 86400000);
  }

  function relative(moment, now) {
    var seconds = Math.round((now - moment) / 1000);
    if (seconds < 60) return "just now";
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) return plural(minutes, "minute");
    var days = dayNumber(now) - dayNumber(moment);
    if (days === 0) return plural(Math.floor(minutes / 60), "hour");
    if (days === 1) return "yesterday";
    return day.format(moment);
  }

  function rewrite(root) {
    var now = new Date();
    var scope = root && root.querySelectorAll ? root : document;
    var times = scope.querySelectorAll("time[data-relative][datetime]");
    if (scope.matches && scope.matches("time[data-relative][datetime]")) times = [scope];
    Array.prototype.forEach.call(times, function (element) {
      var moment = new Date(element.getAttribute("datetime"));
      if (isNaN(moment.getTime())) return;
      element.textContent = relative(moment, now);
      element.title = absolute.format(moment) + " (" + zone + ")";
    });
  }

  // The Preferences page's "Use my browser's time zone (currently …)".
  function nameBrowserZone() {
    document.querySelectorAll("select[data-browser-zone] option[value='']").forEach(function (option) {
      option.textContent = "Use my browser\u2019s time zone (currently " + browserZone + ")";
    });
  }

  document.addEventListener("DOMContentLoaded", function () { rewrite(document); nameBrowserZone(); });
  document.addEventListener("htmx:load", function (event) { rewrite(event.target); });
  window.setInterval(function () { rewrite(document); }, 60000);
})();
