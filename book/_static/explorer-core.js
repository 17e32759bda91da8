/*
 * The explorer's arithmetic, with no page behind it (explorer.js draws, explorer-own.js brings a
 * reader's photo): window.ColorlibExplorerCore in a browser, module.exports under Node.
 *
 * What it reproduces, and how closely (tests/test_explorer_core.py measures it under Node against golden
 * vectors from colorlib's Python reference, the browser tests on the page):
 * - colorlib.explorer.blending: the taps of upsample_bilinear, the weighted blend summed member by
 *   member, the vividness step (vivid), MseStats.mse and may_clip with the same loops in the same
 *   order, in_colour, and the combination rules of colorlib.combination_rules. These run in float64 on the
 *   bundle's data, as the Python reference does, so they agree to rounding (1e-6 on the maps; the
 *   mean's readouts to the last digit shown).
 * - A reader's photo in colour is scored as colorlib.scoring.metrics.score_photo scores: its own ab
 *   (scikit-image's rgb2lab) and the MSE and mean CIEDE2000 (scikit-image's deltaE_ciede2000, in
 *   float64; held to scikit-image's numbers).
 * - The picture: Lab -> sRGB by scikit-image's lab2rgb formulas in float64. colorlib draws its
 *   pictures with its own float32 conversion (colorlib.lab.lab_planes_to_rgb_fast), so a rare pixel
 *   lies one level apart. The sRGB curve is applied through a table of the exact thresholds between
 *   output levels, which gives the level the formula rounds to, without a power per channel.
 * - A reader's photo (colorlib colorize's way in): Pillow's bicubic resize with its fixed-point
 *   coefficients and 8-bit passes (colorlib.lab.resize_and_pad), pad_info's placement, and
 *   colorlib.lab.lab_lightness, so the networks get the same input to the last bit or so.
 * Every scale, step, name and word comes from the bundle's contract (colorlib.explorer.contract); only
 * the constants of the colour space itself live here.
 */
(function (root, factory) {
  "use strict";
  var core = factory();
  if (typeof module === "object" && module.exports) module.exports = core;
  else root.ColorlibExplorerCore = core;
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  // --- the colour space (skimage.color's constants, D65) --------------------------------------------
  var RGB_FROM_XYZ = [
    [3.2404813432005266, -1.5371515162713183, -0.4985363261688878],
    [-0.9692549499965682, 1.8759900014898907, 0.04155592655829284],
    [0.055646639135177166, -0.20404133836651123, 1.0573110696453443],
  ];
  var WHITE = [0.95047, 1.0, 1.08883];
  var XYZ_FROM_LINEAR = [
    [0.412453, 0.35758, 0.180423],
    [0.212671, 0.71516, 0.072169],
    [0.019334, 0.119193, 0.950227],
  ]; // skimage's xyz_from_rgb
  var Y_FROM_LINEAR = XYZ_FROM_LINEAR[1];

  // numpy.rint: round half to even.
  function rint(v) {
    var r = Math.round(v);
    if (r - v === 0.5 && r % 2 !== 0) r -= 1;
    return r;
  }

  function gamma(v) {
    return v > 0.0031308 ? 1.055 * Math.pow(v, 1 / 2.4) - 0.055 : v * 12.92;
  }

  // The byte lab2rgb + colorlib.lab.rgb_to_uint8 give a linear value: clip to [0, 1], the sRGB
  // curve, round v * 255 half to even.
  function byteOfLinear(v) {
    if (!(v > 0)) return 0;
    if (v >= 1) return 255;
    var q = rint(gamma(v) * 255);
    return q < 0 ? 0 : q > 255 ? 255 : q;
  }

  // THRESHOLD[k]: the least linear value whose byte is at least k (bisection on byteOfLinear, which
  // rises with v); BINS[i]: the byte at i / BIN_COUNT. A lookup then steps over the thresholds
  // inside one bin (never more than two: the curve's steepest part, near 0, spaces them wider).
  var BIN_COUNT = 4096;
  var THRESHOLD = new Float64Array(257);
  var BINS = new Uint8Array(BIN_COUNT + 1);
  (function () {
    THRESHOLD[0] = -Infinity;
    THRESHOLD[256] = Infinity;
    for (var k = 1; k <= 255; k++) {
      var lo = 0, hi = 1;
      for (var it = 0; it < 64; it++) {
        var mid = (lo + hi) / 2;
        if (byteOfLinear(mid) >= k) hi = mid;
        else lo = mid;
      }
      THRESHOLD[k] = hi;
    }
    for (var i = 0; i <= BIN_COUNT; i++) BINS[i] = byteOfLinear(i / BIN_COUNT);
  })();

  function toByte(v) {
    if (!(v > 0)) return 0;
    if (v >= 1) return 255;
    var b = BINS[(v * BIN_COUNT) | 0];
    while (v >= THRESHOLD[b + 1]) b++;
    return b;
  }

  function finv(v) {
    return v > 0.2068966 ? v * v * v : (v - 16.0 / 116.0) / 7.787;
  }

  // skimage.color.lab2rgb for one pixel, written as bytes into out[k..k+3].
  function labToRgb(L, a, b, out, k) {
    var y = (L + 16.0) / 116.0;
    fromY(y, finv(y) * WHITE[1], a, b, out, k);
  }

  // The same from y = (L + 16) / 116 and Y = finv(y) * white, which depend on L alone.
  function fromY(y, Y, a, b, out, k) {
    var x = a / 500.0 + y;
    var z = y - b / 200.0;
    if (z < 0) z = 0;
    var X = finv(x) * WHITE[0], Z = finv(z) * WHITE[2];
    var m = RGB_FROM_XYZ;
    out[k] = toByte(X * m[0][0] + Y * m[0][1] + Z * m[0][2]);
    out[k + 1] = toByte(X * m[1][0] + Y * m[1][1] + Z * m[1][2]);
    out[k + 2] = toByte(X * m[2][0] + Y * m[2][1] + Z * m[2][2]);
    out[k + 3] = 255;
  }

  // colorlib.lab.bilinear_taps: source indices and weights, pixel centres aligned, edges clamped.
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

  // colorlib.explorer.blending.render: L (h * w, Lab units), normalised ab (2 * ah * aw, scaled by
  // abScale into Lab units) -> RGBA bytes. `view` ({height, width, L, tapsY, tapsX}) may be smaller
  // than the photo: its own L and taps say where each of its pixels samples the ab map. Each row of
  // the ab map is first interpolated along x at every output column (the same products and sums as
  // interpolating per pixel, so the same floats, done once per map row instead of once per pixel);
  // what depends on L alone is computed once per view and kept, for views of up to PRE_MAX pixels
  // (the ones shown as sliders move; a full-resolution render for saving computes it as it goes).
  var PRE_MAX = 4200000;
  function lightnessTerms(view) {
    var n = view.height * view.width;
    if (view.pre || n > PRE_MAX) return view.pre || null;
    var y = new Float64Array(n), Y = new Float64Array(n), L = view.L;
    for (var p = 0; p < n; p++) {
      y[p] = (L[p] + 16.0) / 116.0;
      Y[p] = finv(y[p]) * WHITE[1];
    }
    view.pre = { y: y, Y: Y };
    return view.pre;
  }
  function render(view, abHeight, abWidth, ab, abScale, out) {
    var h = view.height, w = view.width, aw = abWidth, plane = abHeight * abWidth;
    var ty = view.tapsY, tx = view.tapsX, pre = lightnessTerms(view), L = view.L, xx, yy, r;
    var fy = pre && pre.y, FY = pre && pre.Y;
    var rowsA = new Float64Array(abHeight * w), rowsB = new Float64Array(abHeight * w);
    for (r = 0; r < abHeight; r++) {
      var at = r * aw, bt = plane + r * aw, o = r * w;
      for (xx = 0; xx < w; xx++) {
        var c0 = tx.i0[xx], c1 = tx.i1[xx], fx = tx.f[xx], gx = 1 - fx;
        rowsA[o + xx] = ab[at + c0] * gx + ab[at + c1] * fx;
        rowsB[o + xx] = ab[bt + c0] * gx + ab[bt + c1] * fx;
      }
    }
    for (yy = 0; yy < h; yy++) {
      var r0 = ty.i0[yy] * w, r1 = ty.i1[yy] * w, f = ty.f[yy], g = 1 - f;
      for (xx = 0; xx < w; xx++) {
        var a = rowsA[r0 + xx] * g + rowsA[r1 + xx] * f;
        var b = rowsB[r0 + xx] * g + rowsB[r1 + xx] * f;
        var p = yy * w + xx;
        if (pre) fromY(fy[p], FY[p], a * abScale, b * abScale, out, 4 * p);
        else labToRgb(L[p], a * abScale, b * abScale, out, 4 * p);
      }
    }
    return out;
  }

  // colorlib.scoring.metrics.colourfulness (Hasler & Suesstrunk) of RGBA bytes, in one pass: over
  // bytes the sums (and sums of squares) of r - g and (r + g) / 2 - b are exact in float64, so the
  // variances come out as exactly as numpy's two passes give them. Like colorlib, a picture whose
  // largest value is at most 1 is read as [0, 1] (colourfulness scales with the values: times 255).
  function colourfulness(rgba) {
    var n = rgba.length / 4, max = 0, s1 = 0, s2 = 0, t1 = 0, t2 = 0;
    for (var i = 0; i < rgba.length; i += 4) {
      var r = rgba[i], g = rgba[i + 1], b = rgba[i + 2];
      if (r > max) max = r;
      if (g > max) max = g;
      if (b > max) max = b;
      var rg = r - g, yb = 0.5 * (r + g) - b;
      s1 += rg;
      s2 += rg * rg;
      t1 += yb;
      t2 += yb * yb;
    }
    var mrg = s1 / n, myb = t1 / n;
    var vrg = Math.max(0, s2 / n - mrg * mrg), vyb = Math.max(0, t2 / n - myb * myb);
    var c = Math.hypot(Math.sqrt(vrg), Math.sqrt(vyb)) + 0.3 * Math.hypot(mrg, myb);
    return max <= 1.0 ? 255.0 * c : c;
  }

  // colorlib.explorer.blending.MseStats.mse at vividness k (1 if left out), same loops in the same order.
  function mse(stats, w, k) {
    var quad = 0.0, lin = 0.0, i, j;
    if (k === undefined) k = 1;
    for (i = 0; i < w.length; i++) for (j = 0; j < w.length; j++) quad += w[i] * w[j] * stats.gram[i][j];
    for (i = 0; i < w.length; i++) lin += w[i] * stats.cross[i];
    return Math.max(0.0, k * k * quad - 2.0 * k * lin + stats.energy);
  }

  // colorlib.explorer.blending.MseStats.may_clip: can clipping touch the blend times k?
  function mayClip(stats, w, k) {
    if (k === 1) return false;
    var bound = 0.0;
    for (var i = 0; i < w.length; i++) bound += w[i] * stats.peak[i];
    return k * bound > 1.0;
  }

  // colorlib.explorer.blending.vivid, in place: ab times k, clipped to [-1, 1]; k = 1 leaves ab as it is.
  function vivid(ab, k) {
    if (k === 1) return ab;
    for (var j = 0; j < ab.length; j++) {
      var v = ab[j] * k;
      ab[j] = v < -1 ? -1 : v > 1 ? 1 : v;
    }
    return ab;
  }

  // colorlib.scoring.metrics.mse_ab of two maps
  function mapsMse(ab, truth) {
    var s = 0.0;
    for (var j = 0; j < ab.length; j++) s += (ab[j] - truth[j]) * (ab[j] - truth[j]);
    return s / ab.length;
  }

  // colorlib.ensemble.normalize_weights; null when every weight is zero.
  function normalize(weights) {
    var sum = 0;
    for (var i = 0; i < weights.length; i++) sum += weights[i];
    if (!(sum > 0)) return null;
    return weights.map(function (x) { return x / sum; });
  }

  // --- scoring a reader's photo against its own colours (colorlib.scoring.metrics.score_photo) -----------

  // skimage.color.rgb2lab of one byte pixel, a and b only: into out[j] and out[j + plane].
  function fLab(t) {
    return t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16.0 / 116.0;
  }
  function abOfBytes(r, g, b, out, j, plane) {
    var m = XYZ_FROM_LINEAR, R = LINEAR[r], G = LINEAR[g], B = LINEAR[b];
    var x = fLab((R * m[0][0] + G * m[0][1] + B * m[0][2]) / WHITE[0]);
    var y = fLab((R * m[1][0] + G * m[1][1] + B * m[1][2]) / WHITE[1]);
    var z = fLab((R * m[2][0] + G * m[2][1] + B * m[2][2]) / WHITE[2]);
    out[j] = 500.0 * (x - y);
    out[j + plane] = 200.0 * (y - z);
  }

  // What colorlib.explorer.own.OwnPhoto.truth gives over the photo's area, from workingInput's result:
  // L in Lab units as score_photo sees it (float32) and the photo's own normalised ab (float32, clipped
  // to [-1, 1], as colorlib.lab.normalize_ab stores it), 2 * innerHeight * innerWidth.
  function ownTruth(prepared, lScale, abScale) {
    var info = prepared.info, h = info.innerHeight, w = info.innerWidth, n = h * w, rgba = prepared.inner;
    var L = new Float64Array(n), ab = new Float64Array(2 * n);
    for (var y = 0; y < h; y++) {
      for (var x = 0; x < w; x++) {
        var i = y * w + x;
        L[i] = Math.fround(prepared.input[(y + info.top) * info.size + x + info.left] * lScale);
        abOfBytes(rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2], ab, i, n);
      }
    }
    for (var j = 0; j < 2 * n; j++) ab[j] = Math.fround(Math.min(1, Math.max(-1, ab[j] / abScale)));
    return { L: L, ab: ab };
  }

  // colorlib.explorer.blending.in_colour: more than `own.grey_share` of the pixels have a chroma above
  // `own.grey_chroma` Lab units (normalised ab, 2 * plane values).
  function inColour(ab, plane, abScale, own) {
    var count = 0;
    for (var j = 0; j < plane; j++) if (chromaAt(ab, j, plane) * abScale > own.grey_chroma) count++;
    return count > own.grey_share * plane;
  }

  // skimage.color.deltaE_ciede2000 (kL = kC = kH = 1) of two Lab colours, step by step as it computes.
  var DEG = Math.PI / 180, POW25_7 = Math.pow(25, 7);
  function hueAngle(a, b) {
    var t = Math.atan2(b, a);
    return t < 0 ? t + 2 * Math.PI : t;
  }
  function deltaE2000(L1, a1, b1, L2, a2, b2) {
    var cbar = 0.5 * (Math.hypot(a1, b1) + Math.hypot(a2, b2)), c7 = Math.pow(cbar, 7);
    var scale = 1 + 0.5 * (1 - Math.sqrt(c7 / (c7 + POW25_7)));
    var C1 = Math.hypot(a1 * scale, b1), h1 = hueAngle(a1 * scale, b1);
    var C2 = Math.hypot(a2 * scale, b2), h2 = hueAngle(a2 * scale, b2);
    var Lbar = 0.5 * (L1 + L2), tmp = (Lbar - 50) * (Lbar - 50);
    var SL = 1 + (0.015 * tmp) / Math.sqrt(20 + tmp), Lterm = (L2 - L1) / SL;
    var Cbar = 0.5 * (C1 + C2), Cterm = (C2 - C1) / (1 + 0.045 * Cbar);
    var hdiff = h2 - h1, hsum = h1 + h2, CC = C1 * C2, dH = hdiff;
    if (hdiff > Math.PI) dH -= 2 * Math.PI;
    if (hdiff < -Math.PI) dH += 2 * Math.PI;
    if (CC === 0) dH = 0;
    var dHterm = 2 * Math.sqrt(CC) * Math.sin(dH / 2), Hbar = hsum;
    if (CC !== 0 && Math.abs(hdiff) > Math.PI) Hbar += hsum < 2 * Math.PI ? 2 * Math.PI : -2 * Math.PI;
    if (CC === 0) Hbar *= 2;
    Hbar *= 0.5;
    var T = 1 - 0.17 * Math.cos(Hbar - 30 * DEG) + 0.24 * Math.cos(2 * Hbar) +
      0.32 * Math.cos(3 * Hbar + 6 * DEG) - 0.2 * Math.cos(4 * Hbar - 63 * DEG);
    var Hterm = dHterm / (1 + 0.015 * Cbar * T), cb7 = Math.pow(Cbar, 7);
    var Rc = 2 * Math.sqrt(cb7 / (cb7 + POW25_7));
    var e = (Hbar * (180 / Math.PI) - 275) / 25, dtheta = 30 * DEG * Math.exp(-(e * e));
    var dE2 = Lterm * Lterm + Cterm * Cterm + Hterm * Hterm - Math.sin(2 * dtheta) * Rc * Cterm * Hterm;
    return Math.sqrt(Math.max(dE2, 0));
  }

  // colorlib.scoring.metrics.delta_e of a prediction against the truth, both normalised ab on one L.
  function meanDeltaE(L, ab, truth, abScale) {
    var n = L.length, s = 0.0;
    for (var i = 0; i < n; i++) {
      s += deltaE2000(L[i], truth[i] * abScale, truth[i + n] * abScale, L[i], ab[i] * abScale, ab[i + n] * abScale);
    }
    return s / n;
  }

  // colorlib.explorer.blending.blend_ab: summed member by member.
  function blendMean(members, w, size) {
    var ab = new Float64Array(size);
    for (var m = 0; m < w.length; m++) {
      var member = members[m], wm = w[m];
      if (!wm) continue; // adds exactly zero
      for (var j = 0; j < size; j++) ab[j] = ab[j] + wm * member[j];
    }
    return ab;
  }

  // --- the combination rules (colorlib.combination_rules) on maps of 2 * plane values ---------------------------

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

  // rules.softmax: per-pixel weights softmax(chroma * abScale / T) over the members (T null: infinity)
  function softmax(members, plane, out, t, abScale) {
    if (t === 0) return mostSaturated(members, plane, out);
    if (t === null || !isFinite(t)) return plainMean(members, plane, out);
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

  // The code of the rules other than the weighted mean, by their names in colorlib.combination_rules.RULES (the
  // contract lists them, with their labels and flags; explorer.js refuses to start if one is missing here).
  var RULES = {
    "chroma-mean": chromaMean,
    median: median,
    "most-saturated": mostSaturated,
    softmax: softmax,
  };

  // colorlib.explorer.blending.combine_ab: a rule over the members whose weight is above zero; null if none
  function combine(members, weights, rule, plane, t, abScale) {
    var chosen = members.filter(function (m, i) { return weights[i] > 0; });
    if (!chosen.length) return null;
    if (!RULES[rule]) throw new Error("unknown rule " + rule);
    return RULES[rule](chosen, plane, new Float64Array(2 * plane), t, abScale);
  }

  // A word of the contract with its {fields} filled in.
  function fill(text, fields) {
    return text.replace(/\{(\w+)\}/g, function (all, key) { return key in fields ? String(fields[key]) : all; });
  }

  // --- a reader's photo: colorlib.lab's way in -------------------------------------------------------

  // colorlib.lab.pad_info: the photo scaled to fit, centred in a size x size square.
  function padInfo(height, width, size) {
    var scale = size / Math.max(height, width);
    var ih = Math.max(1, Math.min(size, rint(height * scale)));
    var iw = Math.max(1, Math.min(size, rint(width * scale)));
    return {
      height: height, width: width, size: size, innerHeight: ih, innerWidth: iw,
      top: Math.floor((size - ih) / 2), left: Math.floor((size - iw) / 2),
    };
  }

  // Pillow's bicubic filter (a = -0.5) and its fixed-point coefficients (Resample.c's
  // precompute_coeffs and normalize_coeffs_8bpc): per output sample, the first source index, the
  // count and 22-bit integer weights.
  var PRECISION_BITS = 22;
  function bicubic(x) {
    if (x < 0) x = -x;
    if (x < 1) return (1.5 * x - 2.5) * x * x + 1;
    if (x < 2) return (((x - 5) * x + 8) * x - 4) * -0.5;
    return 0;
  }
  function coefficients(inSize, outSize) {
    var scale = inSize / outSize, filterscale = Math.max(scale, 1), support = 2 * filterscale;
    var ksize = Math.ceil(support) * 2 + 1, ss = 1 / filterscale;
    var start = new Int32Array(outSize), count = new Int32Array(outSize), kk = new Int32Array(outSize * ksize);
    var w = new Float64Array(ksize);
    for (var xx = 0; xx < outSize; xx++) {
      var center = (xx + 0.5) * scale;
      var xmin = Math.trunc(center - support + 0.5), xmax = Math.trunc(center + support + 0.5);
      if (xmin < 0) xmin = 0;
      if (xmax > inSize) xmax = inSize;
      xmax -= xmin;
      var total = 0, x;
      for (x = 0; x < xmax; x++) {
        w[x] = bicubic((x + xmin - center + 0.5) * ss);
        total += w[x];
      }
      for (x = 0; x < xmax; x++) {
        var k = total !== 0 ? w[x] / total : w[x];
        kk[xx * ksize + x] = Math.trunc(k < 0 ? -0.5 + k * (1 << PRECISION_BITS) : 0.5 + k * (1 << PRECISION_BITS));
      }
      start[xx] = xmin;
      count[xx] = xmax;
    }
    return { start: start, count: count, kk: kk, ksize: ksize };
  }
  function clip8(v) {
    if (v >= 1 << (PRECISION_BITS + 8)) return 255;
    if (v <= 0) return 0;
    return (v / (1 << PRECISION_BITS)) | 0;
  }
  // One pass over RGBA bytes along rows (stride 4) or columns (stride 4 * width).
  function pass(src, srcW, srcH, horizontal, outSize) {
    var co = coefficients(horizontal ? srcW : srcH, outSize);
    var outW = horizontal ? outSize : srcW, outH = horizontal ? srcH : outSize;
    var out = new Uint8ClampedArray(outW * outH * 4), half = 1 << (PRECISION_BITS - 1);
    for (var yy = 0; yy < outH; yy++) {
      for (var xx = 0; xx < outW; xx++) {
        var i = horizontal ? xx : yy, first = co.start[i], n = co.count[i], base = i * co.ksize;
        var s0 = half, s1 = half, s2 = half;
        for (var x = 0; x < n; x++) {
          var p = horizontal ? 4 * (yy * srcW + first + x) : 4 * ((first + x) * srcW + xx), k = co.kk[base + x];
          s0 += src[p] * k;
          s1 += src[p + 1] * k;
          s2 += src[p + 2] * k;
        }
        var q = 4 * (yy * outW + xx);
        out[q] = clip8(s0);
        out[q + 1] = clip8(s1);
        out[q + 2] = clip8(s2);
        out[q + 3] = 255;
      }
    }
    return out;
  }
  // Image.resize((outW, outH), Image.BICUBIC) of RGBA bytes (alpha ignored): two passes, each rounded
  // to bytes, a pass skipped where that side keeps its size. The order is Pillow 13's (the lock's):
  // the vertical pass first when the height shrinks by more than twice what the width does.
  function resizeBicubic(rgba, width, height, outW, outH) {
    var img = rgba;
    if (height - outH > 0 && height - outH > (width - outW) * 2) {
      img = pass(img, width, height, false, outH);
      if (outW !== width) img = pass(img, width, outH, true, outW);
      return img;
    }
    if (outW !== width) img = pass(img, width, height, true, outW);
    if (outH !== height) img = pass(img, outW, height, false, outH);
    return img;
  }

  // colorlib.lab.lab_lightness: L of CIE Lab from RGBA bytes, through a table of the 256 linear values.
  var LINEAR = new Float64Array(256);
  for (var q = 0; q < 256; q++) {
    var c = q / 255;
    LINEAR[q] = c > 0.04045 ? Math.pow((c + 0.055) / 1.055, 2.4) : c / 12.92;
  }
  function lightness(rgba, n, out) {
    out = out || new Float32Array(n);
    for (var i = 0; i < n; i++) {
      var y = LINEAR[rgba[4 * i]] * Y_FROM_LINEAR[0] + LINEAR[rgba[4 * i + 1]] * Y_FROM_LINEAR[1] +
        LINEAR[rgba[4 * i + 2]] * Y_FROM_LINEAR[2];
      out[i] = 116 * (y > 0.008856 ? Math.cbrt(y) : 7.787 * y + 16 / 116) - 16;
    }
    return out;
  }

  // colorlib.lab.preprocess_lightness_batch for one photo: resize-and-pad into the working square,
  // then L / lScale as float32: the network's input (size * size), where the photo sits, and the
  // resized photo itself (RGBA, innerWidth * innerHeight).
  function workingInput(rgba, width, height, size, lScale) {
    var info = padInfo(height, width, size);
    var inner = resizeBicubic(rgba, width, height, info.innerWidth, info.innerHeight);
    var square = new Uint8ClampedArray(size * size * 4); // black padding
    for (var y = 0; y < info.innerHeight; y++) {
      var from = 4 * y * info.innerWidth;
      square.set(inner.subarray(from, from + 4 * info.innerWidth), 4 * ((y + info.top) * size + info.left));
    }
    var L = lightness(square, size * size, new Float64Array(size * size));
    var input = new Float32Array(size * size);
    for (var i = 0; i < input.length; i++) input[i] = L[i] / lScale;
    return { input: input, info: info, inner: inner };
  }

  // The photo's area of a working-size ab output (2 * size * size) -> 2 * innerHeight * innerWidth.
  function cropAb(ab, info) {
    var h = info.innerHeight, w = info.innerWidth, s = info.size, out = new Float64Array(2 * h * w);
    for (var c = 0; c < 2; c++)
      for (var y = 0; y < h; y++)
        for (var x = 0; x < w; x++) out[c * h * w + y * w + x] = ab[c * s * s + (y + info.top) * s + x + info.left];
    return out;
  }

  return {
    rint: rint, byteOfLinear: byteOfLinear, toByte: toByte, labToRgb: labToRgb, taps: taps, render: render,
    colourfulness: colourfulness, mse: mse, mayClip: mayClip, vivid: vivid, mapsMse: mapsMse, normalize: normalize,
    blendMean: blendMean, RULES: RULES, combine: combine, fill: fill, padInfo: padInfo,
    resizeBicubic: resizeBicubic, lightness: lightness, workingInput: workingInput, cropAb: cropAb,
    ownTruth: ownTruth, inColour: inColour, deltaE2000: deltaE2000, meanDeltaE: meanDeltaE,
  };
});
