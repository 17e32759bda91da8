/*
 * The ensemble-weight explorer on the book's page (no kernel behind it). Markup:
 * colorlib.explorer.html.explorer_html; data: the bundle colorlib.explorer.bundle writes, inlined in the
 * page; arithmetic: explorer-core.js; a reader's own photo: explorer-own.js.
 *
 * Per validation photo the bundle holds the quantised lightness and each trained model's ab
 * prediction, and its contract (colorlib.explorer.contract) holds every scale, step, rule, element id,
 * caption and word: this file names none of them (but the classes of the page's root and data, found
 * before the contract is read). After the rule, the vividness k scales the blend's
 * colours and clips them (core.vivid), on the validation photos and on a reader's own. Moving a
 * control reads the controls (controls()), computes the blend and its readouts from them (compute(),
 * no page access) and draws the result (paint()). How closely this matches colorlib is said, and
 * measured, in explorer-core.js's header.
 */
(function () {
  "use strict";
  var core = window.ColorlibExplorerCore;

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

  var ROOT = "colorlib-explorer", DATA = "colorlib-explorer-data"; // the contract's ROOT and DATA

  // A photo's view: the pixels drawn and where each samples the photo's ab map.
  function makeView(height, width, L, abHeight, abWidth) {
    return { height: height, width: width, L: L, tapsY: core.taps(height, abHeight), tapsX: core.taps(width, abWidth) };
  }

  function Explorer(root, bundle) {
    var c = bundle.contract, self = this, el = (this.el = {});
    this.root = root;
    this.bundle = bundle;
    this.contract = c;
    this.models = bundle.models;
    this.rules = {};
    c.rules.forEach(function (r) {
      if (!r.uses_weights && !core.RULES[r.name]) throw new Error(core.fill(c.text.no_rule_code, { rule: r.name }));
      self.rules[r.name] = r;
    });
    this.photos = []; // promises of decoded validation photos, by index
    this.decoded = [];
    this.own = null; // a reader's photo (explorer-own.js), shown when the select says "own"
    this.current = null;
    this.showing = null; // the photo being decoded for display, if any
    this.renders = 0;
    this.version = 0;
    this.lastAb = null; // the shown photo's combined ab at its map's size (read by the browser test)
    this.lastMs = null; // how long the last update took, in ms (read by the benchmark)
    function byId(id) { return root.querySelector("#" + CSS.escape(id)); }
    Object.keys(c.ids).forEach(function (key) { el[key] = byId(c.ids[key]); }); // the own part's: null without it
    this.sliders = this.models.map(function (m) { return byId(c.id_prefixes.weight + m); });
    this.shares = this.models.map(function (m) { return byId(c.id_prefixes.share + m); });
    this.canvases = {};
    Object.keys(c.captions).forEach(function (role) { self.canvases[role] = byId(c.id_prefixes.canvas + role); });
    [el.temperature, el.vividness].concat(this.sliders).forEach(function (input) {
      input.addEventListener("input", function () { self.update(); });
    });
    el.rule.addEventListener("change", function () { self.update(); });
    root.querySelectorAll("button[data-preset]").forEach(function (button) {
      button.addEventListener("click", function () { self.applyPreset(button.getAttribute("data-preset")); });
    });
    el.photo.addEventListener("change", function () { self.show(el.photo.value); });
  }

  // A readout's text: the value to `digits` decimals, or the contract's word for none.
  Explorer.prototype.format = function (v, digits) {
    return isFinite(v) ? v.toFixed(digits) : this.contract.text.none;
  };

  Explorer.prototype.applyPreset = function (name) {
    var preset = this.bundle.presets[name];
    if (!preset) return;
    var self = this;
    this.models.forEach(function (m, i) { self.sliders[i].value = String(preset.weights[m] || 0); });
    this.el.vividness.value = String(preset.vividness);
    this.update();
  };

  Explorer.prototype.photo = function (index) {
    if (this.photos[index]) return this.photos[index];
    var p = this.bundle.photos[index], n = this.models.length, q = this.contract.quantisation, self = this;
    var lScale = this.contract.scales.L;
    var promise = Promise.all([decodePng(p.L), decodePng(p.ab)]).then(function (planes) {
      var Lq = planes[0], abq = planes[1], size = 2 * p.ab_height * p.ab_width;
      var L = new Float64Array(Lq.length);
      for (var k = 0; k < Lq.length; k++) L[k] = (Lq[k] * lScale) / q.L_levels;
      var maps = [];
      for (var m = 0; m <= n; m++) {
        var a = new Float64Array(size);
        for (var j = 0; j < size; j++) a[j] = (abq[m * size + j] - q.ab_zero) / q.ab_steps;
        maps.push(a);
      }
      var view = makeView(p.height, p.width, L, p.ab_height, p.ab_width);
      return {
        name: p.name, height: p.height, width: p.width, abHeight: p.ab_height, abWidth: p.ab_width,
        members: maps.slice(0, n), truth: maps[n], stats: p.mse_stats, view: view, full: view,
      };
    });
    promise.then(function (photo) { self.decoded[index] = photo; });
    this.photos[index] = promise;
    promise.catch(function (err) { fail(self.root, self.contract, err); });
    return promise;
  };

  // --- reading the controls, computing, drawing -----------------------------------------------------

  // What the controls say: the raw slider values, the weights normalised (null: all zero), the rule
  // ({name, label, uses_weights, uses_temperature, note}), its temperature (null: infinity) and the
  // vividness k.
  Explorer.prototype.controls = function () {
    var raw = this.sliders.map(function (s) { return Number(s.value); });
    var el = this.el, stop = this.contract.temperatures[Number(el.temperature.value)];
    return {
      raw: raw, w: core.normalize(raw), rule: this.rules[el.rule.value], t: stop.value, stop: stop,
      k: Number(el.vividness.value),
    };
  };

  // The blend's ab map of `photo` for `ctl` (at the map's size), at its vividness, or null when no model is in.
  Explorer.prototype.combined = function (photo, ctl) {
    var plane = photo.abHeight * photo.abWidth, abScale = this.contract.scales.ab;
    if (!ctl.w) return null;
    if (ctl.rule.uses_weights) return core.vivid(core.blendMean(photo.members, ctl.w, 2 * plane), ctl.k);
    var ab = core.combine(photo.members, ctl.raw, ctl.rule.name, plane, ctl.t, abScale);
    return ab && core.vivid(ab, ctl.k);
  };

  // Everything the readouts show, from the controls and the decoded data alone (no page access):
  // {ab, mse, mseAll, deltaE, approximate, pending}; approximate: clipping can bite where an MSE comes
  // from moments; pending: the mean over photos needs photos not decoded yet. A validation photo's MSE is
  // against its true colours; a reader's photo in colour (photo.score) is scored against its own.
  Explorer.prototype.compute = function (photo, ctl) {
    var result = { ab: null, mse: NaN, mseAll: NaN, deltaE: NaN, approximate: false, pending: false }, self = this;
    if (!ctl.w) return result;
    var photos = this.bundle.photos;
    if (ctl.rule.uses_weights) {
      var total = 0.0;
      photos.forEach(function (p) {
        total += core.mse(p.mse_stats, ctl.w, ctl.k);
        result.approximate = result.approximate || core.mayClip(p.mse_stats, ctl.w, ctl.k);
      });
      result.mseAll = total / photos.length;
    } else if (this.decoded.filter(Boolean).length === photos.length) {
      var sum = 0.0;
      this.decoded.forEach(function (p) { sum += core.mapsMse(self.combined(p, ctl), p.truth); });
      result.mseAll = sum / this.decoded.length;
    } else {
      result.pending = true;
    }
    if (photo) {
      result.ab = this.combined(photo, ctl);
      if (photo.stats) {
        result.mse = ctl.rule.uses_weights ? core.mse(photo.stats, ctl.w, ctl.k) : core.mapsMse(result.ab, photo.truth);
      } else if (photo.score) {
        result.mse = core.mapsMse(result.ab, photo.score.ab);
        result.deltaE = core.meanDeltaE(photo.score.L, result.ab, photo.score.ab, this.contract.scales.ab);
      }
    }
    return result;
  };

  // Draw `ab` (null: the blank) over `photo`'s view on a canvas; returns the RGBA bytes drawn.
  Explorer.prototype.draw = function (canvas, photo, ab) {
    var view = photo.view, image = canvas.colorlibImage;
    if (canvas.width !== view.width || canvas.height !== view.height) {
      canvas.width = view.width;
      canvas.height = view.height;
    }
    var ctx = canvas.getContext("2d", { willReadFrequently: true });
    if (!image || image.width !== view.width || image.height !== view.height) {
      image = canvas.colorlibImage = ctx.createImageData(view.width, view.height); // kept for the next draw
    }
    if (ab) core.render(view, photo.abHeight, photo.abWidth, ab, this.contract.scales.ab, image.data);
    else image.data.fill(this.contract.blank);
    ctx.putImageData(image, 0, 0);
    return image.data;
  };

  Explorer.prototype.paint = function (photo, ctl, result) {
    var c = this.contract, self = this, d = c.digits, text = c.text, el = this.el;
    el.rule_note.textContent = ctl.rule.note;
    el.temperature.disabled = !ctl.rule.uses_temperature;
    el.temperature_box.hidden = !ctl.rule.uses_temperature;
    el.temperature_value.textContent = ctl.stop.label;
    el.vividness_value.textContent = ctl.k.toFixed(2);
    this.shares.forEach(function (out, i) {
      if (ctl.rule.uses_weights) out.textContent = ctl.w ? (100 * ctl.w[i]).toFixed(0) + "%" : text.none;
      else out.textContent = ctl.raw[i] > 0 ? text.share_in : text.none;
    });
    this.root.querySelectorAll("button[data-preset]").forEach(function (button) {
      var preset = self.bundle.presets[button.getAttribute("data-preset")];
      var match = preset.vividness === ctl.k &&
        self.models.every(function (m, i) { return ctl.raw[i] === (preset.weights[m] || 0); });
      button.setAttribute("aria-pressed", match ? "true" : "false");
    });
    el.message.textContent = ctl.w ? "" : text.zero;
    this.root.classList.toggle("cx-zero", !ctl.w);
    el.mse_all.textContent = result.pending ? text.pending : this.format(result.mseAll, d.mse);
    el.mse.textContent = this.format(result.mse, d.mse);
    el.delta_e.textContent = this.format(result.deltaE, d.delta_e);
    el.delta_e_box.hidden = !(photo && photo.score);
    var notes = result.approximate ? [text.approximate] : [];
    if (photo && !photo.stats) notes.push(photo.score ? text.own_scored : text.no_truth);
    el.score_note.textContent = notes.join(" ");
    this.lastAb = result.ab;
    if (!photo) return;
    var rgba = this.draw(this.canvases.blend, photo, result.ab);
    el.colourfulness.textContent = result.ab ? this.format(core.colourfulness(rgba), d.colourfulness) : text.none;
  };

  Explorer.prototype.update = function () {
    var start = performance.now(), ctl = this.controls(), photo = this.current, self = this;
    var version = (this.version += 1);
    var result = this.compute(photo, ctl);
    this.paint(photo, ctl, result);
    if (result.pending) {
      // the other rules' mean over photos needs every photo's maps: decode them, then come back
      Promise.all(this.bundle.photos.map(function (p, i) { return self.photo(i); })).then(function () {
        if (self.version === version) self.update();
      });
    }
    this.lastMs = performance.now() - start;
    this.settle(photo, result.pending);
  };

  // --- which photo ------------------------------------------------------------------------------------

  // Show photo `key`: a validation photo's index, or "own" for the reader's photo.
  Explorer.prototype.show = function (key) {
    var self = this;
    this.root.dataset.state = "loading";
    this.showing = key;
    var found = key === "own" ? Promise.resolve(this.own) : this.photo(Number(key));
    return found.then(function (photo) {
      if (self.el.photo.value !== String(key)) return; // another photo was picked meanwhile
      self.showing = null;
      self.current = photo;
      self.root.classList.toggle("cx-own-shown", key === "own");
      var original = photo.originalRgba
        ? self.put(self.canvases.original, photo.view, photo.originalRgba)
        : self.draw(self.canvases.original, photo, photo.truth);
      self.draw(self.canvases.gray, photo, new Float64Array(2 * photo.abHeight * photo.abWidth));
      self.el.original.textContent = self.format(core.colourfulness(original), self.contract.digits.colourfulness);
      self.update(); // it says when the explorer is ready
    });
  };

  // Put ready RGBA bytes on a canvas at the view's size.
  Explorer.prototype.put = function (canvas, view, rgba) {
    canvas.width = view.width;
    canvas.height = view.height;
    canvas.getContext("2d").putImageData(new ImageData(rgba, view.width, view.height), 0, 0);
    return rgba;
  };

  // The reader's photo (explorer-own.js): offered in the photo list and shown.
  Explorer.prototype.showOwn = function (photo) {
    this.own = photo;
    var select = this.el.photo, option = select.querySelector('option[value="own"]');
    if (!option) {
      option = document.createElement("option");
      option.value = "own";
      select.appendChild(option);
    }
    option.textContent = photo.label;
    select.value = "own";
    return this.show("own");
  };

  // The blend of the shown photo at its full resolution (RGBA bytes), for saving.
  Explorer.prototype.fullBlend = function () {
    var photo = this.current, ab = this.combined(photo, this.controls());
    if (!ab) return null;
    var full = photo.full || photo.view;
    var out = new Uint8ClampedArray(4 * full.width * full.height);
    core.render(full, photo.abHeight, photo.abWidth, ab, this.contract.scales.ab, out);
    return { rgba: out, width: full.width, height: full.height };
  };

  // Count the render and say whether every readout is final ("ready") or still coming ("loading").
  Explorer.prototype.settle = function (photo, pending) {
    this.renders += 1;
    this.root.dataset.renders = String(this.renders);
    if (photo) this.root.dataset.state = pending || this.showing != null ? "loading" : "ready";
  };

  // Say on the page that the explorer could not start (where its contract, and so its message, is known).
  function fail(root, c, err) {
    root.dataset.state = "error";
    var message = c && root.querySelector("#" + CSS.escape(c.ids.message));
    if (message) message.textContent = core.fill(c.text.failed, { error: err.message });
  }

  Explorer.makeView = makeView;
  Explorer.ROOT = ROOT;
  window.ColorlibExplorer = Explorer;

  function init(root) {
    if (root.dataset.initialised) return;
    root.dataset.initialised = "true";
    root.dataset.state = "loading";
    var contract = null;
    Promise.resolve()
      .then(function () {
        var bundle = JSON.parse(root.querySelector("script." + DATA).textContent);
        contract = bundle.contract;
        var explorer = new Explorer(root, bundle);
        root.colorlibExplorer = explorer;
        explorer.el.status.hidden = true;
        root.dispatchEvent(new CustomEvent("colorlib-explorer-ready", { detail: explorer }));
        return explorer.show(explorer.el.photo.value || "0");
      })
      .catch(function (err) { fail(root, contract, err); });
  }

  function initAll() {
    document.querySelectorAll("." + ROOT).forEach(init);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initAll);
  else initAll();
})();
