// CUDA quantization (emulated, or on the device in the device build) against the CPU backend, bit for bit: both follow the fp32
// steps of docs/semantics.md ("Quantized attention"), so any difference is a bug. INT8
// and INT4 (odd head dims: a half-used last byte), per block (partial last groups, odd
// block sizes) and per token, smoothed or not, fp32 / fp16 / bf16 and strided (BNHD)
// inputs, with the special values of the rule: exact halves, an all-zero group, a NaN,
// and stored -128 / -8 read back by dequantize.
// Quantized attention against the fp64 reference that quantizes as the
// semantics say (Q' and K' from the CPU quantizer, proven bit-exact above and against
// reference/quant.ts by test/quant.test.ts) and against the CPU op, with the tolerances
// of docs/semantics.md: INT8 and INT4 (the s8 and s4 mma, and INT4 widened to meet INT8),
// per block and per token, smoothK / smoothQ, pv fp32 / fp16 / bf16, causal, window,
// softcap, GQA, Nq != Nk with rows that see no key, LSE, padded head dims, Dv != D,
// BNHD, pre-quantized K (its own bits) and V, stored -128 / -8 in them, and block masks
// (64- and 128-key blocks, empty rows, with causal and window on top). pv int8 (the
// .u8.s8 mma) against the fp64 reference that quantizes P per 64-key block and the CPU
// op over the same sweep, and against unquantized fp64 attention on the semantics'
// accuracy inputs (cosine, relative L1).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "../../csrc/core/half.h"
#include "../../csrc/cpu/quant.h"
#include "../../csrc/ops/quant.h"
#include "harness.h"
#include "quant_runner.h"
#include "reference.h"

namespace subq::test {

namespace {

struct QCase {
  DType dt = DType::F32;
  int64_t B = 2, H = 3, N = 70, D = 37;
  int bits = 8;
  int64_t group = 64;  // 1: per token
  bool smooth = false, bnhd = false;

  std::string name() const {
    return std::string("quantize ") + dtype_name(dt) + " int" + std::to_string(bits) + " B" + std::to_string(B) + " H" +
           std::to_string(H) + " N" + std::to_string(N) + " D" + std::to_string(D) +
           (group == 1 ? " token" : " block" + std::to_string(group)) + (smooth ? " smooth" : "") +
           (bnhd ? " bnhd" : "");
  }
};

// Buffers of one quantized tensor, and its view.
struct Quantized {
  std::vector<uint8_t> data;
  std::vector<float> scales, mean;
  QuantView v;

  explicit Quantized(const QCase& c) {
    v.bits = c.bits, v.group = c.group, v.B = c.B, v.H = c.H, v.N = c.N, v.D = c.D;
    data.assign(size_t(c.B * c.H * c.N * v.row_bytes()), 0xcd);
    scales.assign(size_t(c.B * c.H * v.groups()), NAN);
    v.data.data = data.data();
    v.scales.data = scales.data();
    if (c.smooth) {
      mean.assign(size_t(c.B * c.H * c.D), NAN);
      v.mean.data = mean.data();
    }
  }
};

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

void run_case(const QCase& c) {
  std::mt19937 rng(uint32_t(c.B * 1000 + c.N * 10 + c.D + c.bits));
  std::normal_distribution<float> nd(0.f, 1.f);
  const int64_t n = c.B * c.H * c.N * c.D, es = c.dt == DType::F32 ? 4 : 2;
  // Logical [B, H, N, D] values; stored [B, N, H, D] when bnhd.
  std::vector<float> x(static_cast<size_t>(n));
  for (float& e : x) e = nd(rng) + 0.5f;  // a channel mean away from 0, so smoothing matters
  auto at = [&](int64_t b, int64_t h, int64_t t, int64_t d) -> float& {
    return x[size_t(((b * c.H + h) * c.N + t) * c.D + d)];
  };
  // Head (0, 0), group 0: max 127 * 0.5 / qmax-scaled halves, i.e. x / scale lands on k + 0.5.
  const float qmax = c.bits == 8 ? 127.f : 7.f;
  if (!c.smooth) {
    for (int64_t d = 0; d < c.D; ++d) at(0, 0, 0, d) = (d % 5 - 2) * 0.25f + 0.125f;  // halves of 0.25
    at(0, 0, 0, 0) = qmax * 0.25f;                                               // scale exactly 0.25
    at(0, 0, 0, 1) = NAN;                                                         // left out, quantizes to 0
    if (c.group == 1)
      for (int64_t d = 0; d < c.D; ++d) at(0, 1, 2, d) = 0.f;                   // an all-zero group
  }
  if (c.group > 1 && c.H > 1)
    for (int64_t t = 0; t < std::min(c.group, c.N); ++t)
      for (int64_t d = 0; d < c.D; ++d) at(0, 1, t, d) = 0.f;  // an all-zero group (zero mean too unless smoothed)
  std::vector<uint8_t> buf(size_t(n * es));
  const int64_t sb = c.N * c.H * c.D, sh = c.bnhd ? c.D : c.N * c.D, sn = c.bnhd ? c.H * c.D : c.D;
  for (int64_t b = 0; b < c.B; ++b)
    for (int64_t h = 0; h < c.H; ++h)
      for (int64_t t = 0; t < c.N; ++t)
        for (int64_t d = 0; d < c.D; ++d) {
          const int64_t i = b * sb + h * sh + t * sn + d;
          const float v = at(b, h, t, d);
          if (c.dt == DType::F32) std::memcpy(&buf[size_t(i * 4)], &v, 4);
          else {
            const uint16_t hb = c.dt == DType::F16 ? f32_to_f16(v) : f32_to_bf16(v);
            std::memcpy(&buf[size_t(i * 2)], &hb, 2);
          }
        }
  QuantizeParams p;
  p.x.data = buf.data();
  p.x.dtype = c.dt;
  p.x.ndim = 4;
  const int64_t shape[4] = {c.B, c.H, c.N, c.D}, stride[4] = {sb, sh, sn, 1};
  for (int i = 0; i < 4; ++i) p.x.shape[i] = shape[i], p.x.stride[i] = stride[i];
  p.x.capacity = n;
  p.smooth = c.smooth;

  Quantized cpu(c), gpu(c);
  p.out = cpu.v;
  cpu::quantize(p);
  p.out = gpu.v;
  run_cuda_quantize(p);
  check(cpu.data == gpu.data, "quantized values differ from the CPU's");
  check(same_bits(cpu.scales, gpu.scales), "scales differ from the CPU's");
  check(same_bits(cpu.mean, gpu.mean), "means differ from the CPU's");
  // The planted halves did round away from zero (a check on the CPU rule itself).
  if (!c.smooth && c.bits == 8) {
    check(cpu.scales[0] == 0.25f, "planted scale 0.25, got " + std::to_string(cpu.scales[0]));
    check(int8_t(cpu.data[1]) == 0, "a NaN quantizes to 0");
    for (int64_t d = 2; d < c.D; ++d) {
      const float v = (d % 5 - 2) * 0.25f + 0.125f;  // x / 0.25 = k + 0.5
      const int want = int(v / 0.25f + (v > 0 ? 0.5f : -0.5f));
      check(int8_t(cpu.data[size_t(d)]) == want, "half rounds away from zero at d " + std::to_string(d));
    }
  }

  // dequantize, with stored -128 / -8 (never written by quantize) read as -127 / -7.
  if (c.bits == 8) cpu.data[3] = 0x80;
  else cpu.data[3] = 0x88;
  std::vector<float> o_cpu(size_t(n), NAN), o_gpu(size_t(n), NAN);
  DequantizeParams dp;
  dp.in = cpu.v;
  dp.out.dtype = DType::F32;
  dp.out.ndim = 4;
  const int64_t ostride[4] = {c.H * c.N * c.D, c.N * c.D, c.D, 1};
  for (int i = 0; i < 4; ++i) dp.out.shape[i] = shape[i], dp.out.stride[i] = ostride[i];
  dp.out.capacity = n;
  dp.out.data = o_cpu.data();
  cpu::dequantize(dp);
  dp.out.data = o_gpu.data();
  run_cuda_dequantize(dp);
  check(same_bits(o_cpu, o_gpu), "dequantized values differ from the CPU's");
}

struct ACase {
  DType dt = DType::F16, pv = DType::F32;
  int64_t B = 1, Hq = 2, Hkv = 2, Nq = 70, Nk = 70, D = 64, Dv = 64;
  int bits = 8;
  bool token = false, smooth_k = true, smooth_q = false;
  bool causal = false;
  int64_t left = -1, right = -1;
  double softcap = 0;
  bool bnhd = false;
  int kq_bits = 0, vq_bits = 0;  // pre-quantized K / V with these bits (0: not given)
  int64_t block = 0;             // > 0: a block mask (mask heads Hkv), each key block listed with p = 0.5

  std::string name() const {
    std::string s = std::string("quantizedAttention ") + dtype_name(dt) + " int" + std::to_string(bits) + " pv " +
                    dtype_name(pv) + " B" + std::to_string(B) + " H" + std::to_string(Hq) + "/" + std::to_string(Hkv) +
                    " Nq" + std::to_string(Nq) + " Nk" + std::to_string(Nk) + " D" + std::to_string(D);
    if (Dv != D) s += " Dv" + std::to_string(Dv);
    if (token) s += " token";
    if (!smooth_k) s += " no-smoothK";
    if (smooth_q) s += " smoothQ";
    if (causal) s += " causal";
    if (left >= 0 || right >= 0) s += " window(" + std::to_string(left) + "," + std::to_string(right) + ")";
    if (softcap > 0) s += " softcap";
    if (bnhd) s += " bnhd";
    if (kq_bits) s += " k-int" + std::to_string(kq_bits);
    if (vq_bits) s += " v-int" + std::to_string(vq_bits);
    if (block) s += " sparse" + std::to_string(block);
    return s;
  }
};

// A float tensor [B, H, N, D] (stored [B, N, H, D] when bnhd) of dtype dt.
struct FloatTensor {
  DType dt;
  std::vector<uint8_t> bytes;
  TensorView view;
  std::vector<double> logical;  // [B, H, N, D], the stored values

  FloatTensor(DType t, int64_t B, int64_t H, int64_t N, int64_t D, bool bnhd, std::mt19937& rng, double outlier = 0)
      : dt(t) {
    const int64_t n = B * H * N * D, es = t == DType::F32 ? 4 : 2;
    bytes.assign(size_t(n * es), 0);
    logical.resize(size_t(n));
    std::normal_distribution<double> nd(0, 1);
    view.data = bytes.data(), view.dtype = t, view.ndim = 4, view.capacity = n;
    const int64_t shape[4] = {B, bnhd ? N : H, bnhd ? H : N, D};
    int64_t st = 1;
    for (int i = 3; i >= 0; --i) view.shape[i] = shape[i], view.stride[i] = st, st *= shape[i];
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t i = 0; i < N; ++i)
          for (int64_t d = 0; d < D; ++d) {
            float x = float(nd(rng) + (d % 7 == 3 ? outlier : 0.0));
            if (t == DType::F16) x = f16_to_f32(f32_to_f16(x));
            if (t == DType::BF16) x = bf16_to_f32(f32_to_bf16(x));
            const int64_t at = bnhd ? ((b * N + i) * H + h) * D + d : ((b * H + h) * N + i) * D + d;
            if (t == DType::F32) std::memcpy(&bytes[size_t(at * 4)], &x, 4);
            else {
              const uint16_t hb = t == DType::F16 ? f32_to_f16(x) : f32_to_bf16(x);
              std::memcpy(&bytes[size_t(at * 2)], &hb, 2);
            }
            logical[size_t(((b * H + h) * N + i) * D + d)] = x;
          }
  }
};

// A tensor quantized by the CPU quantizer, its buffers as TensorViews (the op's arguments).
struct QTensor {
  Quantized q;
  TensorView data, scales, mean;
  QuantArgs args;

  QTensor(const FloatTensor& x, int64_t B, int64_t H, int64_t N, int64_t D, int bits, int64_t group, bool smooth,
          bool bnhd)
      : q(QCase{DType::F32, B, H, N, D, bits, group, smooth, false}) {
    QuantizeParams p;
    p.x = as_bhnd(x.view, bnhd ? Layout::BNHD : Layout::BHND);
    p.out = q.v;
    p.smooth = smooth;
    cpu::quantize(p);
    auto view = [](TensorView& t, void* d, DType dt, std::initializer_list<int64_t> shape) {
      t.data = d, t.dtype = dt, t.ndim = int(shape.size());
      int i = 0;
      for (int64_t s : shape) t.shape[i++] = s;
      int64_t st = 1;
      for (i = t.ndim - 1; i >= 0; --i) t.stride[i] = st, st *= t.shape[i];
      t.capacity = st;
    };
    view(data, q.data.data(), bits == 8 ? DType::I8 : DType::U8, {B, H, N, q.v.row_bytes()});
    view(scales, q.scales.data(), DType::F32, {B, H, q.v.groups()});
    if (smooth) view(mean, q.mean.data(), DType::F32, {B, H, D});
    args.data = data, args.scales = scales, args.mean = smooth ? &mean : nullptr;
    args.bits = bits, args.per_token = group == 1, args.block = group;
    args.shape[0] = B, args.shape[1] = H, args.shape[2] = N, args.shape[3] = D;
  }
  // Value x of row r (of the [B, H, N] rows), dequantized in fp32 (without the mean).
  double deq(int64_t r, int64_t x) const {
    const uint8_t* row = q.data.data() + r * q.v.row_bytes();
    const float s = q.scales[size_t((r / q.v.N) * q.v.groups() + (r % q.v.N) / q.v.group)];
    return float(float(quant_value(row, q.v.bits, x)) * s);
  }
};

double round_pv(DType pv, double x) {
  if (pv == DType::F16) return f16_to_f32(f32_to_f16(float(x)));
  if (pv == DType::BF16) return bf16_to_f32(f32_to_bf16(float(x)));
  return x;
}

void run_attention_case(const ACase& c) {
  std::mt19937 rng(uint32_t(c.Nq * 31 + c.Nk * 7 + c.D + c.bits + int(c.pv) * 3));
  const FloatTensor q(c.dt, c.B, c.Hq, c.Nq, c.D, c.bnhd, rng), k(c.dt, c.B, c.Hkv, c.Nk, c.D, c.bnhd, rng, 3.0),
      v(c.dt, c.B, c.Hkv, c.Nk, c.Dv, c.bnhd, rng);
  const int64_t kgroup = c.token ? 1 : kKBlock, qgroup = c.token ? 1 : kQBlock;
  // Pre-quantized operands; a stored -128 / -8 in each (read as -127 / -7).
  std::unique_ptr<QTensor> kq, vq;
  if (c.kq_bits) {
    kq = std::make_unique<QTensor>(k, c.B, c.Hkv, c.Nk, c.D, c.kq_bits, kgroup, c.smooth_k, c.bnhd);
    kq->q.data[5] = c.kq_bits == 8 ? 0x80 : 0x88;
  }
  if (c.vq_bits) {
    vq = std::make_unique<QTensor>(v, c.B, c.Hkv, c.Nk, c.Dv, c.vq_bits, kgroup, false, c.bnhd);
    vq->q.data[7] = c.vq_bits == 8 ? 0x80 : 0x88;
    // An odd INT4 row's last byte holds a pad nibble that no element reads: set it.
    if (c.vq_bits == 4 && c.Dv % 2) vq->q.data[vq->q.v.row_bytes() - 1] |= 0x70;
  }
  QuantAttentionOptions opt;
  opt.qk_bits = c.bits, opt.per_token = c.token, opt.smooth_k = c.smooth_k, opt.smooth_q = c.smooth_q, opt.pv = c.pv;
  opt.attn.causal = c.causal, opt.attn.window_left = c.left, opt.attn.window_right = c.right;
  opt.attn.softcap = c.softcap, opt.attn.return_lse = true;
  opt.attn.layout = c.bnhd ? Layout::BNHD : Layout::BHND;
  QuantAttentionParams p = quant_attention_prepare(q.view, &k.view, kq ? &kq->args : nullptr, &v.view,
                                                   vq ? &vq->args : nullptr, opt);
  // The block mask: rows of ascending key blocks, some empty; mask head h / (Hq / Hkv).
  RefMask mask;
  std::vector<int32_t> idx, cnt;
  if (c.block) {
    mask.block = c.block, mask.Hm = c.Hkv;
    const int64_t nqb = (c.Nq + c.block - 1) / c.block, nkb = (c.Nk + c.block - 1) / c.block;
    mask.max_k = nkb;
    mask.indices.assign(size_t(c.B * c.Hkv * nqb * nkb), 0);
    mask.counts.assign(size_t(c.B * c.Hkv * nqb), 0);
    std::bernoulli_distribution on(0.5);
    for (int64_t r = 0; r < c.B * c.Hkv * nqb; ++r)
      for (int64_t kb = 0; kb < nkb; ++kb)
        if (r % 5 != 3 && on(rng)) mask.indices[size_t(r * nkb + mask.counts[size_t(r)]++)] = int32_t(kb);
    idx = mask.indices, cnt = mask.counts;
    BlockMask& m = p.attn.mask;
    m.block = c.block, m.nqb = nqb, m.nkb = nkb, m.Hm = c.Hkv;
    const int64_t is[4] = {c.B, c.Hkv, nqb, nkb};
    m.indices.data = idx.data(), m.indices.dtype = DType::I32, m.indices.ndim = 4;
    m.counts.data = cnt.data(), m.counts.dtype = DType::I32, m.counts.ndim = 3;
    int64_t st = 1;
    for (int i = 3; i >= 0; --i) m.indices.shape[i] = is[i], m.indices.stride[i] = st, st *= is[i];
    m.indices.capacity = st;
    st = 1;
    for (int i = 2; i >= 0; --i) m.counts.shape[i] = is[i], m.counts.stride[i] = st, st *= is[i];
    m.counts.capacity = st;
  }
  int64_t os[4], ls[3];
  attention_out_shape(p.attn, os);
  attention_lse_shape(p.attn, ls);
  const int64_t on = c.B * c.Hq * c.Nq * c.Dv, ln = c.B * c.Hq * c.Nq, es = c.dt == DType::F32 ? 4 : 2;
  std::vector<uint8_t> o_cpu(size_t(on * es)), o_gpu(size_t(on * es), 0xff);
  std::vector<float> l_cpu(static_cast<size_t>(ln)), l_gpu(size_t(ln), NAN);
  auto bind = [&](std::vector<uint8_t>& o, std::vector<float>& l) {
    TensorView ov, lv;
    ov.data = o.data(), ov.dtype = c.dt, ov.ndim = 4, ov.capacity = on;
    lv.data = l.data(), lv.dtype = DType::F32, lv.ndim = 3, lv.capacity = ln;
    int64_t st = 1;
    for (int i = 3; i >= 0; --i) ov.shape[i] = os[i], ov.stride[i] = st, st *= os[i];
    st = 1;
    for (int i = 2; i >= 0; --i) lv.shape[i] = ls[i], lv.stride[i] = st, st *= ls[i];
    attention_bind_outputs(p.attn, ov, &lv);
  };
  bind(o_cpu, l_cpu);
  cpu::quantized_attention(p);
  bind(o_gpu, l_gpu);
  run_cuda_quant_attention(p);

  // The reference: [deq(Q') + qm, q] . [deq(K'), km] with head dim 2D, V (dequantized)
  // rounded to pv; scale 1/sqrt(D). pv int8: V' (given, or quantized as the call does)
  // and P quantized per 64-key block (attention_pv_int8_reference).
  const QTensor qr(q, c.B, c.Hq, c.Nq, c.D, c.bits, qgroup, c.smooth_q, c.bnhd);
  std::unique_ptr<QTensor> kr;
  if (!kq) kr = std::make_unique<QTensor>(k, c.B, c.Hkv, c.Nk, c.D, c.bits, kgroup, c.smooth_k, c.bnhd);
  const QTensor& kk = kq ? *kq : *kr;
  std::vector<double> qa(size_t(c.B * c.Hq * c.Nq * 2 * c.D)), ka(size_t(c.B * c.Hkv * c.Nk * 2 * c.D)),
      va(size_t(c.B * c.Hkv * c.Nk * c.Dv));
  for (int64_t r = 0; r < c.B * c.Hq * c.Nq; ++r)
    for (int64_t x = 0; x < c.D; ++x) {
      const double mean = c.smooth_q ? qr.q.mean[size_t((r / c.Nq) * c.D + x)] : 0.0;
      qa[size_t(r * 2 * c.D + x)] = c.smooth_q ? float(float(qr.deq(r, x)) + float(mean)) : qr.deq(r, x);
      qa[size_t(r * 2 * c.D + c.D + x)] = q.logical[size_t(r * c.D + x)];
    }
  for (int64_t r = 0; r < c.B * c.Hkv * c.Nk; ++r)
    for (int64_t x = 0; x < c.D; ++x) {
      ka[size_t(r * 2 * c.D + x)] = kk.deq(r, x);
      ka[size_t(r * 2 * c.D + c.D + x)] = kk.q.mean.empty() ? 0.0 : kk.q.mean[size_t((r / c.Nk) * c.D + x)];
    }
  for (int64_t r = 0; r < c.B * c.Hkv * c.Nk; ++r)
    for (int64_t x = 0; x < c.Dv; ++x)
      va[size_t(r * c.Dv + x)] = round_pv(c.pv, vq ? vq->deq(r, x) : v.logical[size_t(r * c.Dv + x)]);
  RefShape rs{c.B, c.Hq, c.Hkv, c.Nq, c.Nk, 2 * c.D, c.Dv, 1 / std::sqrt(double(c.D)), c.softcap,
              c.causal ? -1 : c.left, c.causal ? 0 : c.right, c.block ? &mask : nullptr};
  std::vector<double> ro, rl;
  attention_reference(rs, qa, ka, va, ro, rl);
  if (c.pv == DType::I8) {
    std::unique_ptr<QTensor> vr;
    if (!vq) vr = std::make_unique<QTensor>(v, c.B, c.Hkv, c.Nk, c.Dv, 8, kgroup, false, c.bnhd);
    const QTensor& vv = vq ? *vq : *vr;
    std::vector<int> vi(size_t(c.B * c.Hkv * c.Nk * c.Dv));
    std::vector<double> vs(size_t(c.B * c.Hkv * c.Nk));
    for (int64_t r = 0; r < c.B * c.Hkv * c.Nk; ++r) {
      vs[size_t(r)] = vv.q.scales[size_t((r / c.Nk) * vv.q.v.groups() + (r % c.Nk) / vv.q.v.group)];
      for (int64_t x = 0; x < c.Dv; ++x)
        vi[size_t(r * c.Dv + x)] = quant_value(vv.q.data.data() + r * vv.q.v.row_bytes(), vv.q.v.bits, x);
    }
    attention_pv_int8_reference(rs, qa, ka, vi, vs, kPBlock, ro);
  }

  const bool f16 = c.dt == DType::F16 || c.pv == DType::F16, bf16 = c.dt == DType::BF16 || c.pv == DType::BF16;
  // pv int8: a P' rounded the other way than in fp64 moves an output by about
  // m / 255 * |V'_j| (docs/semantics.md's 1e-3).
  const double tol = bf16 ? 2e-2 : f16 ? 3e-3 : c.pv == DType::I8 ? 1e-3 : 2e-4;
  auto out_at = [&](const std::vector<uint8_t>& o, int64_t b, int64_t h, int64_t i, int64_t d) {
    const int64_t at = c.bnhd ? ((b * c.Nq + i) * c.Hq + h) * c.Dv + d : ((b * c.Hq + h) * c.Nq + i) * c.Dv + d;
    if (c.dt == DType::F32) {
      float x;
      std::memcpy(&x, &o[size_t(at * 4)], 4);
      return double(x);
    }
    uint16_t hb;
    std::memcpy(&hb, &o[size_t(at * 2)], 2);
    return double(c.dt == DType::F16 ? f16_to_f32(hb) : bf16_to_f32(hb));
  };
  double err = 0, err_cpu = 0, lerr = 0;
  for (int64_t b = 0; b < c.B; ++b)
    for (int64_t h = 0; h < c.Hq; ++h)
      for (int64_t i = 0; i < c.Nq; ++i) {
        const int64_t row = (b * c.Hq + h) * c.Nq + i;
        for (int64_t d = 0; d < c.Dv; ++d) {
          const double got = out_at(o_gpu, b, h, i, d);
          err = std::max(err, std::isfinite(got) ? std::abs(got - ro[size_t(row * c.Dv + d)]) : INFINITY);
          err_cpu = std::max(err_cpu, std::abs(got - out_at(o_cpu, b, h, i, d)));
        }
        const int64_t li = (b * c.Hq + h) * c.Nq + i;  // LSE is [B, H, N] in either layout
        const double want = rl[size_t(row)], got = l_gpu[size_t(li)];
        if (std::isinf(want)) lerr = std::max(lerr, got == want ? 0.0 : INFINITY);
        else lerr = std::max(lerr, std::abs(got - want) / std::max(1.0, std::abs(want)));
      }
  check(err <= tol, "max |out - reference| = " + std::to_string(err) + " > " + std::to_string(tol));
  // pv int8 on a GPU: each side's P' may round a half the other way (its exp2 is not the CPU's).
  const double tol_cpu = c.pv == DType::I8 ? 2 * tol : tol;
  check(err_cpu <= tol_cpu, "max |out - CPU op| = " + std::to_string(err_cpu) + " > " + std::to_string(tol_cpu));
  check(lerr <= 1e-4, "LSE relative error " + std::to_string(lerr));
}

// pv int8 against unquantized fp64 attention on the semantics' accuracy inputs: 256
// tokens, D 64, Gaussian, +30 on a few K channels or not; cosine >= 0.9995 and relative
// L1 <= 0.02 (docs/semantics.md).
void run_pv8_accuracy(double outlier, bool token) {
  const int64_t B = 1, H = 2, N = 256, D = 64;
  std::mt19937 rng(uint32_t(21 + int(outlier)));
  const FloatTensor q(DType::F32, B, H, N, D, false, rng), k(DType::F32, B, H, N, D, false, rng, outlier),
      v(DType::F32, B, H, N, D, false, rng);
  QuantAttentionOptions opt;
  opt.per_token = token, opt.pv = DType::I8;
  QuantAttentionParams p = quant_attention_prepare(q.view, &k.view, nullptr, &v.view, nullptr, opt);
  std::vector<float> o(size_t(B * H * N * D), NAN);
  TensorView ov = q.view;
  ov.data = o.data();
  attention_bind_outputs(p.attn, ov, nullptr);
  run_cuda_quant_attention(p);
  RefShape rs{B, H, H, N, N, D, D, 1 / std::sqrt(double(D)), 0, -1, -1, nullptr};
  std::vector<double> ro, rl;
  attention_reference(rs, q.logical, k.logical, v.logical, ro, rl);
  double dot = 0, nn = 0, rr = 0, l1 = 0, r1 = 0;
  for (size_t i = 0; i < o.size(); ++i) {
    dot += o[i] * ro[i], nn += double(o[i]) * o[i], rr += ro[i] * ro[i];
    l1 += std::abs(o[i] - ro[i]), r1 += std::abs(ro[i]);
  }
  const double cosine = dot / std::sqrt(nn * rr), rel = l1 / r1;
  check(cosine >= 0.9995 && rel <= 0.02, "cosine " + std::to_string(cosine) + ", relative L1 " + std::to_string(rel));
}

}  // namespace

void register_quant_tests() {
  std::vector<QCase> cases;
  for (DType dt : {DType::F32, DType::F16, DType::BF16})
    for (int bits : {8, 4})
      for (int64_t group : {int64_t(64), int64_t(1)})
        for (bool smooth : {false, true}) {
          QCase c;
          c.dt = dt, c.bits = bits, c.group = group, c.smooth = smooth;
          cases.push_back(c);
        }
  QCase c;
  c.bnhd = true, c.smooth = true, c.bits = 4, c.D = 64, c.N = 130, c.group = 128;
  cases.push_back(c);
  c.bnhd = true, c.smooth = false, c.bits = 8, c.D = 1, c.N = 9, c.group = 5, c.dt = DType::BF16;
  cases.push_back(c);
  c = QCase{};
  c.group = 1000, c.N = 300, c.D = 16, c.smooth = true;  // one group larger than the tokens
  cases.push_back(c);
  for (const QCase& q : cases) add(q.name(), [q] { run_case(q); });

  std::vector<ACase> att;
  for (DType dt : {DType::F32, DType::F16, DType::BF16})
    for (int bits : {8, 4})
      for (DType pv : {DType::F32, dt == DType::BF16 ? DType::BF16 : DType::F16}) {
        ACase a;
        a.dt = dt, a.bits = bits, a.pv = pv;
        att.push_back(a);
      }
  const size_t by_pv = att.size();  // these rows: each shape with two pv
  ACase a;
  a.causal = true, a.Nq = 37, a.Nk = 100, a.D = 40, a.Dv = 24;  // padded head dim 64, Dv != D
  att.push_back(a);
  a = ACase{};
  a.Nq = 100, a.Nk = 37, a.causal = true, a.bits = 4, a.D = 37;  // rows that see no key, odd INT4 rows
  att.push_back(a);
  a = ACase{};
  a.left = 20, a.right = 5, a.Hq = 4, a.Hkv = 2, a.token = true, a.smooth_q = true, a.bits = 4;
  att.push_back(a);
  a = ACase{};
  a.softcap = 5, a.D = 96, a.Dv = 128, a.dt = DType::BF16, a.pv = DType::BF16, a.smooth_k = false;  // HD 128
  att.push_back(a);
  a = ACase{};
  a.D = 160, a.Dv = 200, a.Nq = 33, a.Nk = 45, a.dt = DType::F32, a.Hq = 3, a.Hkv = 1;  // HD 256
  att.push_back(a);
  a = ACase{};
  a.bnhd = true, a.B = 2, a.kq_bits = 4, a.vq_bits = 8, a.bits = 8, a.pv = DType::F16;  // K INT4 widened to meet Q INT8
  att.push_back(a);
  a = ACase{};
  a.kq_bits = 4, a.vq_bits = 4, a.bits = 4, a.token = true, a.causal = true, a.Nq = 1, a.Nk = 90;  // a decode row
  att.push_back(a);
  a = ACase{};
  a.kq_bits = 8, a.bits = 4, a.smooth_q = true, a.dt = DType::F32;  // Q INT4 widened to meet K INT8
  att.push_back(a);
  a = ACase{};
  a.kq_bits = 4, a.D = 40, a.Dv = 40, a.Nk = 90;  // K INT4 widened from rows of 20 bytes (byte loads)
  att.push_back(a);
  a = ACase{};
  a.block = 64, a.Nq = 200, a.Nk = 150, a.Hq = 4, a.Hkv = 2, a.causal = true;  // sparse + causal, HD 64
  att.push_back(a);
  a = ACase{};
  a.block = 128, a.Nq = 150, a.Nk = 300, a.D = 160, a.bits = 4, a.token = true, a.smooth_q = true, a.dt = DType::BF16,
  a.pv = DType::BF16;  // 128-key blocks over 32-key tiles (HD 256)
  att.push_back(a);
  a = ACase{};
  a.block = 128, a.Nq = 129, a.Nk = 129, a.D = 128, a.left = 40, a.right = 0, a.kq_bits = 8, a.vq_bits = 4;
  att.push_back(a);
  // pv int8 over the sweep: head dims 64 / 128 / 256, INT8 / INT4, token / block, GQA,
  // causal / window / softcap, odd Nq / Nk, pre-quantized int8 and int4 V, block masks.
  const size_t sweep = att.size();
  for (size_t i = 0; i < sweep; ++i) {
    ACase c = att[i];
    if (i < by_pv && c.pv != DType::F32) continue;
    c.pv = DType::I8;
    att.push_back(c);
  }
  a = ACase{};
  a.pv = DType::I8, a.Nq = 77, a.Nk = 203, a.Hq = 6, a.Hkv = 2, a.causal = true, a.dt = DType::F32;  // GQA, odd, 4 tiles
  att.push_back(a);
  a = ACase{};
  a.pv = DType::I8, a.Nq = 65, a.Nk = 129, a.D = 128, a.Dv = 100, a.softcap = 8, a.token = true, a.left = 70,
  a.right = 10, a.dt = DType::BF16;  // HD 128, softcap, window
  att.push_back(a);
  a = ACase{};
  a.pv = DType::I8, a.Nq = 40, a.Nk = 150, a.D = 200, a.Dv = 256, a.bits = 4, a.token = true, a.smooth_q = true,
  a.vq_bits = 4, a.dt = DType::F32;  // HD 256 on 64-key tiles, int4 V cache
  att.push_back(a);
  // pv int8's V'^T staging: word-wise where rows are 4-byte aligned (INT4 Dv 103: 52-byte
  // rows, a pad nibble past Dv), else byte-wise (INT8 Dv 102, INT4 Dv 99: 102- and 50-byte
  // rows).
  for (auto [dv, bits] : {std::pair{103, 4}, std::pair{102, 8}, std::pair{99, 4}}) {
    a = ACase{};
    a.pv = DType::I8, a.Nq = 70, a.Nk = 133, a.D = 64, a.Dv = dv, a.vq_bits = bits, a.token = true, a.causal = true;
    att.push_back(a);
  }
  for (const ACase& c : att) add(c.name(), [c] { run_attention_case(c); });
  for (double outlier : {0.0, 30.0})
    for (bool token : {false, true})
      add(std::string("quantizedAttention pv int8 accuracy (cosine, relative L1) ") + (token ? "token" : "block") +
              (outlier > 0 ? " K outliers +30" : " Gaussian"),
          [outlier, token] { run_pv8_accuracy(outlier, token); });
}

}  // namespace subq::test
