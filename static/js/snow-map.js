// The plows' map on /snow/: Leaflet (vendored), fed by /snow/map.json every 20 seconds.
// Without JavaScript the map stays hidden and the table below says the same in words.
(function () {
  "use strict";
  var element = document.getElementById("plow-map");
  if (!element || typeof L === "undefined") {
    return;
  }
  element.hidden = false;
  document.getElementById("plow-map-legend").hidden = false;
  var map = L.map(element, { scrollWheelZoom: false });
  map.attributionControl.setPrefix(false);
  if (element.dataset.tiles) {
    L.tileLayer(element.dataset.tiles, {
      maxZoom: 18,
      attribution: element.dataset.attribution || "",
    }).addTo(map);
  }
  var layer = L.layerGroup().addTo(map);
  var fitted = false;
  var labels = JSON.parse(document.getElementById("plow-map-labels").textContent);

  function style(feature) {
    var p = feature.properties;
    if (p.kind === "track") {
      return { color: "#1d4f91", weight: 3, opacity: 0.6 };
    }
    if (p.kind === "vehicle") {
      return { radius: 7, color: "#ffffff", weight: 2, fillColor: p.working ? "#b3261e" : "#5f6368", fillOpacity: 1 };
    }
    return { radius: 5, color: "#1d4f91", weight: 1, fillColor: p.at ? "#2e7d32" : "#ffffff", fillOpacity: 0.9 };
  }

  function describe(p) {
    var when = p.at ? new Date(p.at).toLocaleString(document.documentElement.lang || "ja") : labels.never;
    if (p.kind === "vehicle") {
      return p.name + " — " + (p.working ? labels.working : labels.driving) + " (" + when + ")";
    }
    return p.name + " — " + labels.lastPlowed + ": " + when;
  }

  function draw(collection) {
    layer.clearLayers();
    var shapes = L.geoJSON(collection, {
      style: style,
      pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, style(feature));
      },
      onEachFeature: function (feature, shape) {
        if (feature.properties.kind !== "track") {
          // A text node: a vehicle's or an area's name never becomes markup.
          shape.bindTooltip(document.createTextNode(describe(feature.properties)));
        }
      },
    }).addTo(layer);
    if (!fitted) {
      // The plows when there are any (where the work is), else every district.
      var plows = L.latLngBounds([]);
      collection.features.forEach(function (feature) {
        if (feature.properties.kind === "vehicle") {
          plows.extend(L.latLng(feature.geometry.coordinates[1], feature.geometry.coordinates[0]));
        }
      });
      var bounds = plows.isValid() ? plows : shapes.getBounds();
      if (bounds.isValid()) {
        map.fitBounds(bounds, { padding: [16, 16], maxZoom: 15 });
        fitted = true;
      }
    }
  }

  function refresh() {
    fetch(element.dataset.source, { headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (collection) {
        if (collection) {
          draw(collection);
        }
      })
      .catch(function () {});
  }

  map.setView([37.4948, 139.9298], 12);
  refresh();
  window.setInterval(refresh, 20000);
})();
