// /shelters/: the map of the sites (Leaflet, vendored) and the "where I am" button.
// Without JavaScript both stay hidden: the list says the same in words, and "my home" is a link.
(function () {
  "use strict";

  function locateButton() {
    var button = document.getElementById("locate-me");
    var form = document.getElementById("shelter-search");
    var status = document.getElementById("locate-status");
    if (!button || !form || !("geolocation" in navigator)) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      status.textContent = button.dataset.locating;
      navigator.geolocation.getCurrentPosition(
        function (position) {
          // Rounded to about 100 m before it leaves the browser (as the server rounds it too).
          form.elements.near.value = "here";
          form.elements.lat.value = position.coords.latitude.toFixed(3);
          form.elements.lon.value = position.coords.longitude.toFixed(3);
          // A whole page load (form.submit() fires no submit event, so htmx stays out of it).
          form.submit();
        },
        function (error) {
          status.textContent =
            error.code === error.PERMISSION_DENIED ? button.dataset.errorDenied : button.dataset.errorOther;
        },
        { enableHighAccuracy: false, timeout: 15000, maximumAge: 300000 }
      );
    });
  }

  function parsePoints(text) {
    if (!text) {
      return [];
    }
    return text.split(";").map(function (pair) {
      var parts = pair.split(",");
      return [parseFloat(parts[0]), parseFloat(parts[1])];
    });
  }

  // Popups are built from text nodes: names and addresses never become markup.
  function popupContent(p) {
    var box = document.createElement("div");
    var name = document.createElement("strong");
    name.textContent = p.name;
    name.lang = p.nameLang;
    box.appendChild(name);
    [p.kindLabel, p.address, p.hazards.join(", ")].forEach(function (line, index) {
      if (!line) {
        return;
      }
      var row = document.createElement("div");
      row.textContent = line;
      if (index === 1) {
        row.lang = "ja";
      }
      box.appendChild(row);
    });
    return box;
  }

  function shelterMap() {
    var element = document.getElementById("shelter-map");
    if (!element || typeof L === "undefined") {
      return;
    }
    element.hidden = false;
    document.getElementById("shelter-map-legend").hidden = false;
    var labels = JSON.parse(document.getElementById("shelter-map-labels").textContent);
    var map = L.map(element, { scrollWheelZoom: false });
    map.attributionControl.setPrefix(false);
    if (element.dataset.tiles) {
      L.tileLayer(element.dataset.tiles, { maxZoom: 18, attribution: element.dataset.attribution || "" }).addTo(map);
    }
    map.setView([37.4948, 139.9298], 12);
    var layer = L.layerGroup().addTo(map);
    var loaded = null;
    var collection = null;

    function draw(results) {
      layer.clearLayers();
      L.geoJSON(collection, {
        pointToLayer: function (feature, latlng) {
          var emergency = feature.properties.kind === "emergency";
          return L.circleMarker(latlng, {
            radius: 6,
            color: "#ffffff",
            weight: 2,
            fillColor: emergency ? "#1d4f91" : "#2e7d32",
            fillOpacity: 1,
          });
        },
        onEachFeature: function (feature, shape) {
          // Narrower than the map, so that a popup fits a phone's screen.
          shape.bindPopup(popupContent(feature.properties), {
            maxWidth: Math.max(160, Math.min(300, element.clientWidth - 80)),
          });
        },
      }).addTo(layer);
      var focus = parsePoints(results.dataset.focus);
      if (results.dataset.position) {
        var here = parsePoints(results.dataset.position)[0];
        var you = document.createElement("span");
        you.textContent = labels.youAreHere;
        L.circleMarker(here, { radius: 8, color: "#b3261e", weight: 3, fillOpacity: 0 })
          .bindTooltip(you, { permanent: true, direction: "top" })
          .addTo(layer);
        focus = [here].concat(focus.slice(0, 5));
      }
      if (focus.length) {
        map.fitBounds(L.latLngBounds(focus), { padding: [24, 24], maxZoom: 16 });
      }
    }

    function refresh() {
      var results = document.getElementById("shelter-results");
      if (!results) {
        return;
      }
      var source = results.dataset.mapSource;
      if (source === loaded) {
        draw(results);
        return;
      }
      fetch(source, { headers: { Accept: "application/json" } })
        .then(function (response) {
          return response.ok ? response.json() : null;
        })
        .then(function (features) {
          if (features) {
            loaded = source;
            collection = features;
            draw(results);
          }
        })
        .catch(function () {});
    }

    refresh();
    // htmx swapped the results (another district or hazard, another page): follow them.
    document.body.addEventListener("htmx:afterSettle", refresh);
  }

  locateButton();
  shelterMap();
})();
