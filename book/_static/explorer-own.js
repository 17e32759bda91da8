/*
 * "Use your own photo" on the explorer's page: the reader's photo is colorized by the six models in
 * this browser (onnxruntime-web, wasm, one thread: a plain static host gives no cross-origin
 * isolation for more), then blended live by explorer.js's sliders, presets and rules.
 *
 * It does what `colorlib colorize` does (colorlib.explorer.own is the same in Python): the photo
 * decoded as stored (no colour management, EXIF orientation applied, transparency over white),
 * refused above the contract's pixel limit; its lightness at full resolution; resize-and-pad into the
 * working square and L / 100 as the networks' input (explorer-core.js: Pillow's bicubic resize to the
 * bit); each model's ab map cropped to the photo's area; the blend upsampled onto the full-resolution
 * lightness. A photo in colour (core.inColour) is its own truth: the readouts score the blend against
 * its colours at the working size, as colorlib.explorer.own.OwnPhoto.score does (core.ownTruth, MSE and
 * mean ΔE2000); a grey one has nothing to score against. Photos above the contract's preview size are
 * shown smaller while the sliders move; the saved PNG is always the full resolution. The models and
 * the runtime are fetched only when the reader picks a photo, with a progress bar. Markup:
 * colorlib.explorer.html.own_photo_html; its ids and every word said here: the contract's.
 */
(function () {
  "use strict";
  var core = window.ColorlibExplorerCore, fill = core.fill;

  function OwnPhoto(explorer, box) {
    var self = this, el = explorer.el;
    this.explorer = explorer;
    this.contract = explorer.contract;
    this.text = explorer.contract.text;
    this.box = box;
    this.web = JSON.parse(box.getAttribute("data-web") || "{}");
    this.el = el;
    this.sessions = null; // promise of {name: InferenceSession}
    this.busy = false;
    this.timings = null; // ms since the photo was chosen: decoded, models, predicted, shown (the benchmark reads it)
    this.photo = null;
    var off = box.getAttribute("data-unavailable");
    if (off) return this.disable(fill(this.text.own_off, { reason: off }));
    if (location.protocol === "file:") return this.disable(this.text.own_from_file);
    this.el.own_file.addEventListener("change", function () {
      if (self.el.own_file.files.length) self.choose(self.el.own_file.files[0]);
      self.el.own_file.value = ""; // the same file again is a new choice
    });
    ["dragenter", "dragover"].forEach(function (type) {
      box.addEventListener(type, function (e) {
        e.preventDefault();
        box.classList.add("cx-own-over");
      });
    });
    ["dragleave", "drop"].forEach(function (type) {
      box.addEventListener(type, function () { box.classList.remove("cx-own-over"); });
    });
    box.addEventListener("drop", function (e) {
      e.preventDefault();
      var files = e.dataTransfer && e.dataTransfer.files;
      if (files && files.length) self.choose(files[0]);
    });
    this.el.own_save.addEventListener("click", function () { self.download(); });
    explorer.root.addEventListener("input", function () { self.refreshSave(); });
    el.photo.addEventListener("change", function () { self.refreshSave(); });
    this.say("", false);
  }

  OwnPhoto.prototype.disable = function (text) {
    this.el.own_file.disabled = true;
    this.box.classList.add("cx-own-off");
    this.say(text, false);
  };

  OwnPhoto.prototype.say = function (text, error) {
    this.el.own_status.textContent = text;
    this.el.own_status.classList.toggle("cx-own-error", !!error);
    this.box.dataset.state = error ? "error" : this.busy ? "busy" : this.photo ? "ready" : "idle";
  };

  OwnPhoto.prototype.refreshSave = function () {
    this.el.own_save.disabled = this.busy || !this.explorer.current || !this.explorer.controls().w;
  };

  // The models, once: the runtime's script, its WebAssembly and the six files, with one progress bar.
  OwnPhoto.prototype.models = function () {
    if (this.sessions) return this.sessions;
    var self = this, web = this.web, base = document.baseURI, text = this.text;
    var total = web.runtime.wasm_bytes + web.models.reduce(function (s, m) { return s + m.bytes; }, 0);
    var done = 0;
    this.el.own_progress.hidden = false;
    function fetchBytes(url) {
      return fetch(url).then(function (r) {
        if (!r.ok) throw new Error(fill(text.load_failed, { url: url, status: r.status }));
        var reader = r.body.getReader(), parts = [], got = 0;
        function next() {
          return reader.read().then(function (step) {
            if (step.done) {
              var bytes = new Uint8Array(got), at = 0;
              parts.forEach(function (p) { bytes.set(p, at); at += p.length; });
              return bytes;
            }
            parts.push(step.value);
            got += step.value.length;
            done += step.value.length;
            self.el.own_progress.value = Math.min(done / total, 1);
            var mb = { done: (done / 1e6).toFixed(1), total: (total / 1e6).toFixed(1) };
            self.say(fill(text.own_fetching, mb), false);
            return next();
          });
        }
        return next();
      });
    }
    var runtimeBase = new URL(web.runtime.src, base).href;
    var script = new Promise(function (resolve, reject) {
      if (window.ort) return resolve();
      var tag = document.createElement("script");
      tag.src = runtimeBase + web.runtime.script;
      tag.onload = resolve;
      tag.onerror = function () { reject(new Error(fill(text.own_no_runtime, { url: tag.src }))); };
      document.head.appendChild(tag);
    });
    this.sessions = script
      .then(function () { return fetchBytes(runtimeBase + web.runtime.wasm); })
      .then(function (wasm) {
        var ort = window.ort;
        ort.env.wasm.wasmPaths = runtimeBase;
        ort.env.wasm.wasmBinary = wasm;
        ort.env.wasm.numThreads = 1;
        ort.env.wasm.proxy = false;
        var sessions = {}, chain = Promise.resolve();
        web.models.forEach(function (m) {
          chain = chain
            .then(function () { return fetchBytes(new URL(m.src, base).href); })
            .then(function (bytes) {
              return ort.InferenceSession.create(bytes, { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
            })
            .then(function (session) { sessions[m.name] = session; });
        });
        return chain.then(function () {
          self.el.own_progress.hidden = true;
          return sessions;
        });
      });
    this.sessions.catch(function () { self.sessions = null; self.el.own_progress.hidden = true; });
    return this.sessions;
  };

  // The photo's pixels as stored (no colour management, EXIF orientation applied), after checking its
  // size from its header; transparency is put over white, as colorlib.data.photos does.
  OwnPhoto.prototype.decode = function (file) {
    var text = this.text, name = file.name || text.own_unnamed, limit = this.contract.own.max_pixels;
    function error(key, fields) { // said: in the reader's words already
      return Object.assign(new Error(fill(text[key], Object.assign({ name: name }, fields))), { said: true });
    }
    if (!file.size) return Promise.reject(error("own_empty"));
    var url = URL.createObjectURL(file);
    var header = new Promise(function (resolve, reject) {
      var img = new Image();
      img.onload = function () { resolve(img); };
      img.onerror = function () { reject(error("own_unknown")); };
      img.src = url;
    });
    return header
      .then(function (img) {
        var w = img.naturalWidth, h = img.naturalHeight;
        if (!w || !h) throw error("own_no_size");
        if (w * h > limit) throw error("own_too_large", { width: w, height: h, limit: limit.toLocaleString("en") });
        return createImageBitmap(file, {
          colorSpaceConversion: "none", premultiplyAlpha: "none", imageOrientation: "from-image",
        });
      })
      .then(function (bitmap) {
        var canvas = document.createElement("canvas");
        canvas.width = bitmap.width;
        canvas.height = bitmap.height;
        var ctx = canvas.getContext("2d", { willReadFrequently: true });
        ctx.fillStyle = "#ffffff";
        ctx.fillRect(0, 0, bitmap.width, bitmap.height);
        ctx.drawImage(bitmap, 0, 0);
        var data = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
        bitmap.close();
        return { rgba: data, width: canvas.width, height: canvas.height };
      })
      .catch(function (err) {
        if (err.said) throw err;
        throw error("own_undecodable", { error: err.message });
      })
      .finally(function () { URL.revokeObjectURL(url); });
  };

  // Run every model on the working-size input; each ab map cropped to the photo's area.
  OwnPhoto.prototype.predict = function (sessions, input, size) {
    var ort = window.ort, web = this.web, members = [], self = this, chain = Promise.resolve();
    this.explorer.models.forEach(function (name) {
      chain = chain.then(function () {
        var feeds = {};
        feeds[web.input] = new ort.Tensor("float32", input.input, [1, 1, size, size]);
        return sessions[name].run(feeds).then(function (out) {
          members.push(core.cropAb(out[web.output].data, input.info));
          var count = { done: members.length, total: self.explorer.models.length };
          self.say(fill(self.text.own_model_done, count), false);
        });
      });
    });
    return chain.then(function () { return members; });
  };

  // The photo as explorer.js shows it: a view at most the preview size, the full resolution for saving.
  OwnPhoto.prototype.build = function (name, pixels, info, members, score) {
    var w = pixels.width, h = pixels.height, n = w * h, Explorer = window.ColorlibExplorer;
    var L = core.lightness(pixels.rgba, n);
    var full = Explorer.makeView(h, w, L, info.innerHeight, info.innerWidth);
    var view = full, original = pixels.rgba, cap = this.contract.own.preview_max_pixels;
    if (n > cap) {
      var s = Math.sqrt(cap / n), vw = Math.max(1, Math.floor(w * s)), vh = Math.max(1, Math.floor(h * s));
      var vL = new Float32Array(vw * vh);
      original = new Uint8ClampedArray(4 * vw * vh);
      for (var y = 0; y < vh; y++) {
        var sy = Math.min(h - 1, Math.floor(((y + 0.5) * h) / vh));
        for (var x = 0; x < vw; x++) {
          var sx = Math.min(w - 1, Math.floor(((x + 0.5) * w) / vw)), p = sy * w + sx, q = y * vw + x;
          vL[q] = L[p];
          original.set(pixels.rgba.subarray(4 * p, 4 * p + 4), 4 * q);
        }
      }
      view = Explorer.makeView(vh, vw, vL, info.innerHeight, info.innerWidth);
    }
    return {
      name: name, label: fill(this.text.own_label, { name: name, width: w, height: h }), height: h, width: w,
      abHeight: info.innerHeight, abWidth: info.innerWidth, members: members, truth: null, stats: null,
      score: score, view: view, full: full, originalRgba: original,
    };
  };

  OwnPhoto.prototype.choose = function (file) {
    var self = this, t0 = performance.now(), marks = {}, text = this.text, name = file.name || text.own_unnamed;
    if (this.busy) return Promise.resolve();
    this.busy = true;
    this.refreshSave();
    this.say(fill(text.own_reading, { name: name }), false);
    var size = this.explorer.bundle.size, lScale = this.contract.scales.L, pixels;
    return this.decode(file)
      .then(function (decoded) {
        pixels = decoded;
        marks.decoded = performance.now() - t0;
        return self.models();
      })
      .then(function (sessions) {
        marks.models = performance.now() - t0;
        self.say(text.own_colorizing, false);
        var input = core.workingInput(pixels.rgba, pixels.width, pixels.height, size, lScale);
        var abScale = self.contract.scales.ab, truth = core.ownTruth(input, lScale, abScale);
        var score = core.inColour(truth.ab, truth.L.length, abScale, self.contract.own) ? truth : null;
        return self.predict(sessions, input, size).then(function (members) {
          marks.predicted = performance.now() - t0;
          return self.build(name, pixels, input.info, members, score);
        });
      })
      .then(function (photo) {
        self.photo = photo;
        return self.explorer.showOwn(photo);
      })
      .then(function () {
        marks.shown = performance.now() - t0;
        self.timings = marks;
        self.busy = false;
        self.say(fill(text.own_done, { seconds: (marks.shown / 1000).toFixed(1) }), false);
        self.refreshSave();
      })
      .catch(function (err) {
        self.busy = false;
        self.say(err.message, true);
        self.refreshSave();
      });
  };

  // The blend at the photo's full resolution, as a PNG download.
  OwnPhoto.prototype.download = function () {
    var blend = this.explorer.fullBlend(), self = this;
    if (!blend) return;
    var canvas = document.createElement("canvas");
    canvas.width = blend.width;
    canvas.height = blend.height;
    canvas.getContext("2d").putImageData(new ImageData(blend.rgba, blend.width, blend.height), 0, 0);
    canvas.toBlob(function (png) {
      var a = document.createElement("a"), name = self.explorer.current.name || self.text.own_unnamed;
      a.href = URL.createObjectURL(png);
      a.download = fill(self.text.own_saved_as, { name: name.replace(/\.[^.]*$/, "") });
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(a.href); }, 10000);
    }, "image/png");
  };

  function attach(explorer) {
    var box = explorer.el.own;
    if (box && !explorer.ownPhoto) explorer.ownPhoto = new OwnPhoto(explorer, box);
  }

  document.addEventListener("colorlib-explorer-ready", function (e) { attach(e.detail); }, true);
  document.querySelectorAll("." + window.ColorlibExplorer.ROOT).forEach(function (root) {
    if (root.colorlibExplorer) attach(root.colorlibExplorer);
  });
})();
