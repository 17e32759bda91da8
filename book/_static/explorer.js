/*
 * Ensemble-weight explorer for the static book (no kernel behind the page).
 *
 * The page holds, per validation photo, the quantised lightness and each trained model's ab
 * prediction (written by colorlib.explorer.bundle.export_explorer_data). Blending is linear, so moving a
 * slider re-blends those maps here, upsamples them, converts Lab -> sRGB the way skimage's lab2rgb
 * does (D65, sRGB gamma) and draws the result. Every step mirrors colorlib.explorer.bundle.blend_preview
 * operation by operation, so the page matches Python to a level or so per pixel and shows the same
 * MSE and colourfulness. Markup: colorlib.explorer.bundle.explorer_html.
 *
 * Besides the weighted mean, the page offers the other combination rules of colorlib.rules (see
 * colorlib.explorer.rules): they combine the models whose slider is above zero as equals, on the
 * stored maps, each written below to mirror its colorlib.rules function; their MSE is that of the
 * stored maps against the stored truth (colorlib.scoring.metrics.mse_ab).
 */
(function () {
  "use strict";

  // skimage.color: rgb_from_xyz = inv(xyz_from_rgb), printed with full precision, and the D65 white.
  var RGB_FROM_XYZ = [
    [3.2404813432005266, -1.5371515162713183, -0.4985363261688878],
    [-0.9692549499965682, 1.8759900014898907, 0.04155592655829284],
    [0.055646639135177166, -0.20404133836651123, 1.0573110696453443],
  ];
  var WHITE = [0.95047, 1.0, 1.08883];
  var BLANK = 238; // the blend's placeholder grey when every weight is zero

  // numpy.rint: round half to even.
  function rint(v) {
    var r = Math.round(v);
    if (r - v === 0.5 && r % 2 !== 0) r -= 1;
    return r;
  }

  function toByte(v) {
    // lab2rgb clips to [0, 1]; colorlib.lab.rgb_to_uint8 rounds v * 255.
    if (v < 0) v = 0;
    else if (v > 1) v = 1;
    var q = rint(v * 255);
    return q < 0 ? 0 : q > 255 ? 255 : q;
  }

  function finv(v) {
    return v > 0.2068966 ? Math.pow(v, 3.0) : (v - 16.0 / 116.0) / 7.787;
  }

  function gamma(v) {
    return v > 0.0031308 ? 1.055 * Math.pow(v, 1 / 2.4) - 0.055 : v * 12.92;
  }

  // skimage.color.lab2rgb for one pixel, written as bytes into out[k..k+3].
  function labToRgb(L, a, b, out, k) {
    var y = (L + 16.0) / 116.0;
    var x = a / 500.0 + y;
    var z = y - b / 200.0;
    if (z < 0) z = 0;
    var X = finv(x) * WHITE[0];
    var Y = finv(y) * WHITE[1];
    var Z = finv(z) * WHITE[2];
    for (var c = 0; c < 3; c++) {
      var m = RGB_FROM_XYZ[c];
      out[k + c] = toByte(gamma(X * m[0] + Y * m[1] + Z * m[2]));
    }
    out[k + 3] = 255;
  }

  // colorlib.explorer.bundle.upsample_bilinear's source taps.
  function taps(nOut, nIn) {
    var i0 = new Int32Array(nOut), i1 = new Int32Array(nOut), f = new Float64Array(nOut);
    for (var i = 0; i < nOut; i++) {
      var src = ((i + 0.5) * nIn) / nOut - 0.5;
      if (src < 0) src = 0;
      if (src > nIn - 1) src = nIn - 1;
      var lo = Math.floor(src);
      i0[i] = lo;
      i1[i] = Math.min(lo + 1, nIn - 1);
      f[i] = src - lo;
    }
    return { i0: i0, i1: i1, f: f };
  }

  // colorlib.explorer.bundle.render: L (h*w, Lab units), normalised ab (2*ah*aw) -> RGBA bytes.
  function render(photo, ab, out) {
    var h = photo.height, w = photo.width, ah = photo.abHeight, aw = photo.abWidth, plane = ah * aw;
    var ty = photo.tapsY, tx = photo.tapsX, L = photo.L;
    for (var yy = 0; yy < h; yy++) {
      var r0 = ty.i0[yy] * aw, r1 = ty.i1[yy] * aw, fy = ty.f[yy];
      for (var xx = 0; xx < w; xx++) {
        var c0 = tx.i0[xx], c1 = tx.i1[xx], fx = tx.f[xx];
        var v = [0, 0];
        for (var ch = 0; ch < 2; ch++) {
          var o = ch * plane;
          var top = ab[o + r0 + c0] * (1 - fx) + ab[o + r0 + c1] * fx;
          var bottom = ab[o + r1 + c0] * (1 - fx) + ab[o + r1 + c1] * fx;
          v[ch] = (top * (1 - fy) + bottom * fy) * 128.0;
        }
        var p = yy * w + xx;
        labToRgb(L[p], v[0], v[1], out, 4 * p);
      }
    }
    return out;
  }

  // colorlib.scoring.metrics.colourfulness (Hasler & Suesstrunk) of RGBA bytes.
  function colourfulness(rgba) {
    var n = rgba.length / 4, i, max = 0;
    for (i = 0; i < rgba.length; i += 4) max = Math.max(max, rgba[i], rgba[i + 1], rgba[i + 2]);
    var scale = max <= 1.0 ? 255.0 : 1.0;
    var rg = new Float64Array(n), yb = new Float64Array(n);
    for (i = 0; i < n; i++) {
      var r = rgba[4 * i] * scale, g = rgba[4 * i + 1] * scale, b = rgba[4 * i + 2] * scale;
      rg[i] = r - g;
      yb[i] = 0.5 * (r + g) - b;
    }
    function mean(x) {
      var s = 0;
      for (var k = 0; k < x.length; k++) s += x[k];
      return s / x.length;
    }
    function std(x, m) {
      var s = 0;
      for (var k = 0; k < x.length; k++) s += (x[k] - m) * (x[k] - m);
      return Math.sqrt(s / x.length);
    }
    var mrg = mean(rg), myb = mean(yb);
    return Math.hypot(std(rg, mrg), std(yb, myb)) + 0.3 * Math.hypot(mrg, myb);
  }

  // colorlib.explorer.bundle.MseStats.mse, same loops in the same order.
  function mse(stats, w) {
    var quad = 0.0, lin = 0.0, i, j;
    for (i = 0; i < w.length; i++) for (j = 0; j < w.length; j++) quad += w[i] * w[j] * stats.gram[i][j];
    for (i = 0; i < w.length; i++) lin += w[i] * stats.cross[i];
    return Math.max(0.0, quad - 2.0 * lin + stats.energy);
  }

  // --- the combination rules (colorlib.rules), on the chosen members' maps (each 2 * plane long) ---

  function chromaAt(m, j, plane) {
    var a = m[j], b = m[j + plane];
    return Math.sqrt(a * a + b * b); // what torch.linalg.vector_norm gives, to the bit
  }

  // rules.mean (the members as equals: the softmax family at T = infinity)
  function plainMean(members, plane, out) {
    var k = members.length;
    for (var j = 0; j < 2 * plane; j++) {
      var s = 0.0;
      for (var i = 0; i < k; i++) s += members[i][j];
      out[j] = s / k;
    }
    return out;
  }

  // rules.chroma_mean: the hue of the mean vector, the members' mean chroma; clipped to [-1, 1]
  function chromaMean(members, plane, out) {
    var k = members.length;
    plainMean(members, plane, out);
    for (var j = 0; j < plane; j++) {
      var length = chromaAt(out, j, plane), target = 0.0;
      for (var i = 0; i < k; i++) target += chromaAt(members[i], j, plane);
      target /= k;
      var scale = length > 0 ? target / Math.max(length, 1e-12) : 0.0;
      for (var c = j; c < 2 * plane; c += plane) out[c] = Math.min(1, Math.max(-1, out[c] * scale));
    }
    return out;
  }

  // rules.median: per pixel and channel; the mean of the middle two for an even count
  function median(members, plane, out) {
    var k = members.length, v = new Float64Array(k), h = k >> 1;
    for (var j = 0; j < 2 * plane; j++) {
      for (var i = 0; i < k; i++) v[i] = members[i][j];
      v.sort();
      out[j] = k % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
    }
    return out;
  }

  // rules.most_saturated: per pixel the member of largest chroma, the first of equals
  function mostSaturated(members, plane, out) {
    for (var j = 0; j < plane; j++) {
      var best = 0, top = chromaAt(members[0], j, plane);
      for (var i = 1; i < members.length; i++) {
        var c = chromaAt(members[i], j, plane);
        if (c > top) { top = c; best = i; }
      }
      out[j] = members[best][j];
      out[j + plane] = members[best][j + plane];
    }
    return out;
  }

  // rules.softmax: per-pixel weights softmax(chroma * abScale / T) over the members
  function softmax(members, plane, out, t, abScale) {
    if (t === 0) return mostSaturated(members, plane, out);
    if (!isFinite(t)) return plainMean(members, plane, out);
    var k = members.length, x = new Float64Array(k);
    for (var j = 0; j < plane; j++) {
      var top = -Infinity, sum = 0.0, i;
      for (i = 0; i < k; i++) {
        x[i] = (chromaAt(members[i], j, plane) * abScale) / t;
        if (x[i] > top) top = x[i];
      }
      for (i = 0; i < k; i++) {
        x[i] = Math.exp(x[i] - top);
        sum += x[i];
      }
      var a = 0.0, b = 0.0;
      for (i = 0; i < k; i++) {
        a += (x[i] / sum) * members[i][j];
        b += (x[i] / sum) * members[i][j + plane];
      }
      out[j] = a;
      out[j + plane] = b;
    }
    return out;
  }

  // colorlib.explorer.rules.combine_ab: a rule over the members whose weight is above zero; null if none
  function combine(photo, weights, rule, t, abScale) {
    var members = photo.members.filter(function (m, i) { return weights[i] > 0; });
    if (!members.length) return null;
    var plane = photo.abHeight * photo.abWidth, out = new Float64Array(2 * plane);
    if (rule === "chroma-mean") return chromaMean(members, plane, out);
    if (rule === "median") return median(members, plane, out);
    if (rule === "most-saturated") return mostSaturated(members, plane, out);
    if (rule === "softmax") return softmax(members, plane, out, t, abScale);
    throw new Error("unknown rule " + rule);
  }

  // colorlib.scoring.metrics.mse_ab of two maps
  function mapsMse(ab, truth) {
    var s = 0.0;
    for (var j = 0; j < ab.length; j++) s += (ab[j] - truth[j]) * (ab[j] - truth[j]);
    return s / ab.length;
  }

  function formatMse(v) {
    return isFinite(v) ? v.toFixed(4) : "\u2013";
  }
  function formatColourfulness(v) {
    return isFinite(v) ? v.toFixed(2) : "\u2013";
  }

  // A grayscale PNG (base64) -> its bytes, without colour management.
  function decodePng(b64) {
    var bin = atob(b64), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    var blob = new Blob([bytes], { type: "image/png" });
    var bitmap = window.createImageBitmap
      ? createImageBitmap(blob, { colorSpaceConversion: "none", premultiplyAlpha: "none" })
      : new Promise(function (resolve, reject) {
          var img = new Image();
          img.onload = function () { resolve(img); };
          img.onerror = reject;
          img.src = "data:image/png;base64," + b64;
        });
    return bitmap.then(function (image) {
      var canvas = document.createElement("canvas");
      canvas.width = image.width;
      canvas.height = image.height;
      var ctx = canvas.getContext("2d", { willReadFrequently: true });
      ctx.drawImage(image, 0, 0);
      var rgba = ctx.getImageData(0, 0, image.width, image.height).data;
      var out = new Uint8Array(image.width * image.height);
      for (var k = 0; k < out.length; k++) out[k] = rgba[4 * k];
      return out;
    });
  }

  function loadBundle(root) {
    var inline = root.querySelector("script.colorlib-explorer-data");
    if (inline) return Promise.resolve(JSON.parse(inline.textContent));
    var src = root.getAttribute("data-src");
    if (!src) return Promise.reject(new Error("no data in the page and no data-src"));
    return fetch(new URL(src, document.baseURI)).then(function (r) {
      if (!r.ok) throw new Error("could not load " + src + " (" + r.status + ")");
      return r.json();
    });
  }

  function Explorer(root, bundle) {
    this.root = root;
    this.bundle = bundle;
    this.models = bundle.models;
    this.q = bundle.quantisation;
    this.photos = [];
    this.decoded = [];
    this.current = null;
    this.showing = null; // the photo being decoded for display, if any
    this.renders = 0;
    this.version = 0;
    this.lastAb = null; // the current photo's combined ab at the stored size (read by the browser test)
    var self = this;
    function $(sel) { return root.querySelector(sel); }
    this.sliders = this.models.map(function (m) { return root.querySelector('input[data-model="' + m + '"]'); });
    this.shares = this.models.map(function (m) { return root.querySelector("#share-" + CSS.escape(m)); });
    this.select = $("#photo-select");
    this.canvases = {
      original: $('canvas[data-role="original"]'),
      gray: $('canvas[data-role="gray"]'),
      blend: $('canvas[data-role="blend"]'),
    };
    this.readouts = {
      mse: $("#mse-readout"),
      mseAll: $("#mse-all-readout"),
      colourfulness: $("#colourfulness-readout"),
      original: $("#colourfulness-original"),
    };
    this.message = $("#explorer-message");
    this.status = $("#explorer-status");
    this.ruleSelect = $("#rule-select");
    this.ruleNote = $("#rule-note");
    this.temperature = $("#temperature");
    this.temperatureBox = $("#temperature-box");
    this.temperatureValue = $("#temperature-value");
    if (this.temperature) {
      this.temperatures = this.temperature.getAttribute("data-temperatures").split(" ").map(Number);
      this.temperatureLabels = this.temperature.getAttribute("data-labels").split("|");
      this.temperature.addEventListener("input", function () { self.update(); });
    }
    if (this.ruleSelect) this.ruleSelect.addEventListener("change", function () { self.update(); });
    this.sliders.forEach(function (s) {
      s.addEventListener("input", function () { self.update(); });
    });
    root.querySelectorAll("button[data-preset]").forEach(function (button) {
      button.addEventListener("click", function () { self.applyPreset(button.getAttribute("data-preset")); });
    });
    this.select.addEventListener("change", function () { self.show(Number(self.select.value)); });
  }

  Explorer.prototype.weights = function () {
    return this.sliders.map(function (s) { return Number(s.value); });
  };

  // colorlib.explorer.bundle.normalized_weights; null when every weight is zero.
  Explorer.prototype.normalized = function () {
    var w = this.weights(), sum = 0;
    for (var i = 0; i < w.length; i++) sum += w[i];
    if (!(sum > 0)) return null;
    return w.map(function (x) { return x / sum; });
  };

  // The chosen rule: {name, weights: uses the weights, temperature: uses T, note}; the mean without a choice.
  Explorer.prototype.rule = function () {
    var option = this.ruleSelect && this.ruleSelect.selectedOptions[0];
    if (!option) return { name: "mean", weights: true, temperature: false, note: "" };
    return {
      name: option.value,
      weights: option.getAttribute("data-weights") === "true",
      temperature: option.getAttribute("data-temperature") === "true",
      note: option.getAttribute("data-note"),
    };
  };

  Explorer.prototype.temperatureNow = function () {
    return this.temperatures[Number(this.temperature.value)];
  };

  Explorer.prototype.applyPreset = function (name) {
    var preset = this.bundle.presets[name];
    if (!preset) return;
    var self = this;
    this.models.forEach(function (m, i) { self.sliders[i].value = String(preset[m] || 0); });
    this.update();
  };

  Explorer.prototype.photo = function (index) {
    if (this.photos[index]) return this.photos[index];
    var p = this.bundle.photos[index], n = this.models.length, q = this.q, self = this;
    var promise = Promise.all([decodePng(p.L), decodePng(p.ab)]).then(function (planes) {
      var Lq = planes[0], abq = planes[1], size = 2 * p.ab_height * p.ab_width;
      var L = new Float64Array(Lq.length);
      for (var k = 0; k < Lq.length; k++) L[k] = (Lq[k] * 100.0) / q.L_levels;
      var maps = [];
      for (var m = 0; m <= n; m++) {
        var a = new Float64Array(size);
        for (var j = 0; j < size; j++) a[j] = (abq[m * size + j] - q.ab_zero) / q.ab_steps;
        maps.push(a);
      }
      return {
        height: p.height, width: p.width, abHeight: p.ab_height, abWidth: p.ab_width,
        L: L, members: maps.slice(0, n), truth: maps[n], stats: p.mse_stats,
        tapsY: taps(p.height, p.ab_height), tapsX: taps(p.width, p.ab_width),
      };
    });
    promise.then(function (photo) { self.decoded[index] = photo; });
    this.photos[index] = promise;
    promise.catch(function (err) { self.fail(err); });
    return promise;
  };

  Explorer.prototype.draw = function (canvas, photo, ab) {
    canvas.width = photo.width;
    canvas.height = photo.height;
    var ctx = canvas.getContext("2d", { willReadFrequently: true });
    var image = ctx.createImageData(photo.width, photo.height);
    if (ab) render(photo, ab, image.data);
    else image.data.fill(BLANK);
    ctx.putImageData(image, 0, 0);
    return image.data;
  };

  Explorer.prototype.show = function (index) {
    var self = this;
    this.root.dataset.state = "loading";
    this.showing = index;
    return this.photo(index).then(function (photo) {
      if (Number(self.select.value) !== index) return; // another photo was picked meanwhile
      self.showing = null;
      self.current = photo;
      var original = self.draw(self.canvases.original, photo, photo.truth);
      self.draw(self.canvases.gray, photo, new Float64Array(2 * photo.abHeight * photo.abWidth));
      self.readouts.original.textContent = formatColourfulness(colourfulness(original));
      self.update(); // it says when the explorer is ready
    });
  };

  Explorer.prototype.update = function () {
    var raw = this.weights(), w = this.normalized(), rule = this.rule(), self = this;
    var version = (this.version += 1);
    if (this.ruleNote) this.ruleNote.textContent = rule.note;
    if (this.temperature) {
      this.temperature.disabled = !rule.temperature;
      this.temperatureBox.hidden = !rule.temperature;
      this.temperatureValue.textContent = this.temperatureLabels[Number(this.temperature.value)];
    }
    this.shares.forEach(function (out, i) {
      if (!out) return;
      if (rule.weights) out.textContent = w ? (100 * w[i]).toFixed(0) + "%" : "\u2013";
      else out.textContent = raw[i] > 0 ? "in" : "\u2013";
    });
    this.root.querySelectorAll("button[data-preset]").forEach(function (button) {
      var preset = self.bundle.presets[button.getAttribute("data-preset")];
      var match = self.models.every(function (m, i) { return Number(self.sliders[i].value) === (preset[m] || 0); });
      button.setAttribute("aria-pressed", match ? "true" : "false");
    });
    var photo = this.current;
    if (!w) {
      this.message.textContent = this.root.getAttribute("data-zero-message");
      this.root.classList.add("cx-zero");
      this.readouts.mse.textContent = this.readouts.mseAll.textContent = "\u2013";
      this.readouts.colourfulness.textContent = "\u2013";
      this.lastAb = null;
      if (photo) this.draw(this.canvases.blend, photo, null);
      this.settle(photo, false);
      return;
    }
    this.message.textContent = "";
    this.root.classList.remove("cx-zero");
    var t = this.temperature ? this.temperatureNow() : Infinity, scale = this.q.ab_scale || 128.0;
    var pending = false;
    if (rule.name === "mean") {
      var total = 0.0;
      this.bundle.photos.forEach(function (p) { total += mse(p.mse_stats, w); });
      this.readouts.mseAll.textContent = formatMse(total / this.bundle.photos.length);
    } else if (this.decoded.filter(Boolean).length === this.bundle.photos.length) {
      var sum = 0.0;
      this.decoded.forEach(function (p) { sum += mapsMse(combine(p, raw, rule.name, t, scale), p.truth); });
      this.readouts.mseAll.textContent = formatMse(sum / this.decoded.length);
    } else {
      // the other rules need every photo's maps: decode them, then come back (unless something moved)
      pending = true;
      this.readouts.mseAll.textContent = "\u2026";
      Promise.all(this.bundle.photos.map(function (p, i) { return self.photo(i); })).then(function () {
        if (self.version === version) self.update();
      });
    }
    if (!photo) return;
    var ab, size = 2 * photo.abHeight * photo.abWidth;
    if (rule.name === "mean") {
      ab = new Float64Array(size);
      for (var m = 0; m < w.length; m++) {
        var member = photo.members[m], wm = w[m];
        for (var j = 0; j < size; j++) ab[j] = ab[j] + wm * member[j];
      }
    } else {
      ab = combine(photo, raw, rule.name, t, scale);
    }
    this.lastAb = ab;
    var rgba = this.draw(this.canvases.blend, photo, ab);
    this.readouts.mse.textContent = formatMse(rule.name === "mean" ? mse(photo.stats, w) : mapsMse(ab, photo.truth));
    this.readouts.colourfulness.textContent = formatColourfulness(colourfulness(rgba));
    this.settle(photo, pending);
  };

  // Count the render and say whether every readout is final ("ready") or still coming ("loading":
  // a photo or the maps for the mean over photos are still being decoded).
  Explorer.prototype.settle = function (photo, pending) {
    this.bump();
    if (photo) this.root.dataset.state = pending || this.showing != null ? "loading" : "ready";
  };

  Explorer.prototype.bump = function () {
    this.renders += 1;
    this.root.dataset.renders = String(this.renders);
  };

  Explorer.prototype.fail = function (err) {
    this.root.dataset.state = "error";
    if (this.message) this.message.textContent = "The explorer could not start: " + err.message;
  };

  function init(root) {
    if (root.dataset.initialised) return;
    root.dataset.initialised = "true";
    root.dataset.state = "loading";
    loadBundle(root)
      .then(function (bundle) {
        var explorer = new Explorer(root, bundle);
        root.colorlibExplorer = explorer;
        if (explorer.status) explorer.status.hidden = true;
        return explorer.show(Number(explorer.select.value) || 0);
      })
      .catch(function (err) {
        root.dataset.state = "error";
        var msg = root.querySelector("#explorer-message");
        if (msg) msg.textContent = "The explorer could not start: " + err.message;
      });
  }

  function initAll() {
    document.querySelectorAll(".colorlib-explorer").forEach(init);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initAll);
  else initAll();
})();
