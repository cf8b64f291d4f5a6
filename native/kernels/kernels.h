// native-rnn kernels: plain C++17, no N-API, no exceptions thrown.
//
// Conventions (the contract every kernel, the addon and the TypeScript backend share):
// - Matrices are row-major. A view is (pointer, rows, cols, ld) with ld >= cols; element
//   (i, j) is p[i*ld + j]. Callers (the addon) have already checked every size, offset and
//   leading dimension; kernels trust their arguments.
// - Notation of the seed: Wx is (n_c, n_x), Wc is (n_c, n_c), b is (n_c), one example per
//   column, a Sequence of T steps is (rows, T*m) with step t in columns [t*m, (t+1)*m).
// - Gradient outputs always accumulate (+=); the caller zeroes them once per step.
// - Every kernel comes in float and double (explicit instantiations in the .cc files).
// - Scalar results (a loss, a sum of squares) are returned as double.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nrnn {

using index_t = std::int64_t;

enum class Activation : int { Tanh = 0, Relu = 1, Sigmoid = 2 };

// ---- gemm.cc ---------------------------------------------------------------------------
// BLAS ?gemm semantics, row-major: C = alpha * op(A) * op(B) + beta * C.
// op(A) is (M, K): A is stored (M, K) with lda >= K, or, when transA, (K, M) with lda >= M.
// op(B) is (K, N): B is stored (K, N) with ldb >= N, or, when transB, (N, K) with ldb >= K.
// C is (M, N) with ldc >= N. beta == 0 never reads C (it may hold NaN). K == 0 or
// alpha == 0 scales C by beta only. M == 0 or N == 0 touches nothing.
template <typename T>
void gemm(bool transA, bool transB, index_t M, index_t N, index_t K, T alpha, const T* A,
          index_t lda, const T* B, index_t ldb, T beta, T* C, index_t ldc);

// The naive triple loop with the same semantics: the oracle every fast path is tested against.
template <typename T>
void gemm_reference(bool transA, bool transB, index_t M, index_t N, index_t K, T alpha,
                    const T* A, index_t lda, const T* B, index_t ldb, T beta, T* C,
                    index_t ldc);

// ---- elementwise.cc ---------------------------------------------------------------------
// C = f(U) over a (rows, cols) view. C may be exactly U (in place).
template <typename T>
void activation_forward(Activation act, index_t rows, index_t cols, const T* U, index_t ldu,
                        T* C, index_t ldc);

// dU = dC ⊙ f'(U), with f' written in terms of the saved output C (the seed's dtanh):
// tanh: 1 - C²; relu: C > 0 ? 1 : 0; sigmoid: C (1 - C). dU may be exactly dC.
template <typename T>
void activation_backward(Activation act, index_t rows, index_t cols, const T* dC,
                         index_t lddc, const T* C, index_t ldc, T* dU, index_t lddu);

// X[i, j] += b[i] for every column j.
template <typename T>
void add_bias(index_t rows, index_t cols, const T* b, T* X, index_t ldx);

// y[i] += sum_j X[i, j] (the bias gradient).
template <typename T>
void row_sum(index_t rows, index_t cols, const T* X, index_t ldx, T* y);

// y += alpha * x
template <typename T>
void axpy(index_t n, T alpha, const T* x, T* y);

// x *= alpha
template <typename T>
void scale(index_t n, T alpha, T* x);

// y ⊙= x (elementwise product in place; x and y do not overlap)
template <typename T>
void mul_in_place(index_t n, const T* x, T* y);

// mask[0, n) = 0 with probability p, else T(1/(1 − p)): xoshiro128** from state[0..3], an
// output r dropping when r < round(p·2^32). RNNModel's dropout masks (lib/nn/dropout.ts
// derives the state from the model seed, the training step and the layer); the ts twin
// draws the same bits.
template <typename T>
void dropout_mask(index_t n, double p, const std::uint32_t state[4], T* mask);

// x[:] = value
template <typename T>
void fill(index_t n, T value, T* x);

// y[:] = x[:] (no overlap)
template <typename T>
void copy(index_t n, const T* x, T* y);

// Y = X over a (rows, cols) view (no overlap): moves a column block of a Sequence, e.g.
// the last step C_T of H into the state carried to the next chunk.
template <typename T>
void copy_matrix(index_t rows, index_t cols, const T* X, index_t ldx, T* Y, index_t ldy);

// sum of x[i]² accumulated in double
template <typename T>
double sum_squares(index_t n, const T* x);

// x[i] = min(max(x[i], -limit), limit)
template <typename T>
void clip_by_value(index_t n, T limit, T* x);

// ---- softmax.cc -------------------------------------------------------------------------
// For each column j of logits (V, N): p = softmax(logits[:, j]) computed stably (max
// subtracted), loss_j = -log p[targets[j]]. dlogits[:, j] = scale * (p - onehot(targets[j])).
// A target of -1 ignores its column: no loss, dlogits column zero. Other targets are in
// [0, V) (checked by the caller). dlogits may be exactly logits (in place).
// Returns sum_j loss_j in double.
template <typename T>
double softmax_cross_entropy(index_t V, index_t N, const T* logits, index_t ldl,
                             const std::int32_t* targets, T scale, T* dlogits, index_t ldd);

// ---- gather.cc --------------------------------------------------------------------------
// W is (rows, V). out[:, j] = W[:, ids[j]] (or += when accumulate), j < n, ids in [0, V).
// This is Wx·onehot(ids) without the one-hot matrix.
template <typename T>
void gather_columns(index_t rows, index_t n, const T* W, index_t ldw,
                    const std::int32_t* ids, T* out, index_t ldo, bool accumulate);

// dW[:, ids[j]] += dU[:, j] for j < n (the gradient of gather_columns).
template <typename T>
void scatter_add_columns(index_t rows, index_t n, const T* dU, index_t lddu,
                         const std::int32_t* ids, T* dW, index_t lddw);

// ---- rnn.cc -----------------------------------------------------------------------------
// Whole-sequence forward of c_t = f(Wc c_{t-1} + Wx x_t + b).
// Wx is (n_c, n_x), Wc is (n_c, n_c), b is (n_c).
// Inputs: exactly one of X (n_x, T*m) dense, or ids (T*m) token ids in [0, n_x).
// H is (n_c, (T+1)*m) = [c0 | C_1 ... C_T]; on entry H[:, 0:m] holds c0.
// U = Wx·X + b is computed as one product over all T*m columns into H[:, m:], then
// for t = 1..T: H_t = f(H_t + Wc·H_{t-1}).
template <typename T>
void rnn_forward(Activation act, index_t n_x, index_t n_c, index_t steps, index_t m,
                 const T* X, const std::int32_t* ids, const T* Wx, const T* Wc, const T* b,
                 T* H);

// Whole-sequence backward (BPTT inside the sequence, nothing flows past c0 except dc0).
// dC (n_c, T*m) is dJ/dC_t from above for t = 1..T. dU (n_c, T*m) is written with
// dJ/dU_t; it may be exactly dC (then dC is consumed).
// Accumulates (+=): dWx (n_c, n_x), dWc (n_c, n_c), db (n_c), dX (n_x, T*m; may be null,
// must be null for ids), dc0 (n_c, m).
//   t = T..1: dU_t = (dC_t + Wcᵀ dU_{t+1}) ⊙ f'(C_t)
//   dWx += dU·Xᵀ (scatter-add for ids)   dWc += dU·[c0 .. C_{T-1}]ᵀ   db += rowsum(dU)
//   dX += Wxᵀ·dU                          dc0 += Wcᵀ·dU_1
template <typename T>
void rnn_backward(Activation act, index_t n_x, index_t n_c, index_t steps, index_t m,
                  const T* X, const std::int32_t* ids, const T* H, const T* Wx, const T* Wc,
                  const T* dC, T* dU, T* dWx, T* dWc, T* db, T* dX, T* dc0);

// ---- lstm.cc, gru.cc: gated cells (PyTorch's nn.LSTM / nn.GRU, docs/ARCHITECTURE.md §2) ----------
// Gates are row blocks of one matrix in PyTorch's order; Wx is (G·n_c, n_x), Wc (G·n_c, n_c),
// bx and bc (G·n_c). Inputs: exactly one of X (n_x, T·m) dense or ids (T·m) token ids in
// [0, n_x) (then Wx·x_t is a column gather). H is (n_c, (T+1)·m) = [h0 | h_1 .. h_T] with h0
// in H[:, 0:m] on entry. Every A = Wx·x_t + bx is one product over the T·m columns; only
// Wc·h_{t−1} is sequential. Neither forward nor backward allocates.
// Empty sizes: steps, m or n_c == 0 make the forward touch nothing; see the backward for dh0/dc0.

// LSTM, G = 4 (i, f, g, o):
//   i = σ(A_i + B_i)  f = σ(A_f + B_f)  g = tanh(A_g + B_g)  o = σ(A_o + B_o),  B = Wc·h_{t−1} + bc
//   c_t = f ⊙ c_{t−1} + i ⊙ g      h_t = o ⊙ tanh(c_t)
// S (n_c, (T+1)·m) = [c0 | c_1 .. c_T], c0 in S[:, 0:m] on entry. G (4n_c, T·m) is written with
// the gate outputs i, f, g, o of every step (saved for the backward).
template <typename T>
void lstm_forward(index_t n_x, index_t n_c, index_t steps, index_t m, const T* X,
                  const std::int32_t* ids, const T* Wx, const T* Wc, const T* bx, const T* bc,
                  T* H, T* S, T* G);

// dH (n_c, T·m): ∂J/∂h_t for t = 1..T from above, read only (∂J/∂h_T of the final state is
// folded into its last block by the caller). dcT (n_c, m): ∂J/∂c_T, or null (zero); it may be
// exactly dc0 (then it is consumed).
// dG (4n_c, T·m) is scratch, written with ∂J/∂(gate pre-activations) (dA = dB per gate).
// Accumulates (+=): dWx (4n_c, n_x; scatter-add for ids), dWc (4n_c, n_c), dbx and dbc
// (4n_c, both += rowsum(dG)), dX (n_x, T·m; null when not wanted, must be null for ids).
// Writes (=): dh0, dc0 (n_c, m) = ∂J/∂h0, ∂J/∂c0; they serve as the running dh, dc of the
// recursion. steps == 0: dh0 = 0 and dc0 = dcT (c_T is c0), or 0 without dcT; m == 0 or
// n_c == 0: nothing is touched.
template <typename T>
void lstm_backward(index_t n_x, index_t n_c, index_t steps, index_t m, const T* X,
                   const std::int32_t* ids, const T* Wx, const T* Wc, const T* H, const T* S,
                   const T* G, const T* dH, const T* dcT, T* dG, T* dWx, T* dWc, T* dbx,
                   T* dbc, T* dX, T* dh0, T* dc0);

// GRU, G = 3 (r, z, n), PyTorch's "reset after" form:
//   r = σ(A_r + B_r)  z = σ(A_z + B_z)  n = tanh(A_n + r ⊙ B_n),  B = Wc·h_{t−1} + bc
//   h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}
// G (4n_c, T·m) is written with r, z, n of every step and, as a 4th row block, B_n (∂r needs it).
template <typename T>
void gru_forward(index_t n_x, index_t n_c, index_t steps, index_t m, const T* X,
                 const std::int32_t* ids, const T* Wx, const T* Wc, const T* bx, const T* bc,
                 T* H, T* G);

// dH as for the LSTM. dG (4n_c, T·m) is scratch, written with [dA_r; dA_z; dA_n; dB_n]:
// dA = ∂J/∂(Wx x + bx) per gate, dB = ∂J/∂(Wc h + bc), equal to dA for r and z, and
// dB_n = dA_n ⊙ r. Accumulates (+=): dWx += dG[0:3n_c]·Xᵀ (scatter-add for ids),
// dWc += [dA_r; dA_z; dB_n]·H_prevᵀ, dbx += rowsum(dG[0:3n_c]), dbc += rowsum of
// [dA_r; dA_z; dB_n], dX += Wxᵀ·dG[0:3n_c] (null when not wanted, must be null for ids).
// Writes (=): dh0 (n_c, m) = ∂J/∂h0, also the running dh of the recursion. steps == 0:
// dh0 = 0; m == 0 or n_c == 0: nothing is touched.
template <typename T>
void gru_backward(index_t n_x, index_t n_c, index_t steps, index_t m, const T* X,
                  const std::int32_t* ids, const T* Wx, const T* Wc, const T* H, const T* G,
                  const T* dH, T* dG, T* dWx, T* dWc, T* dbx, T* dbc, T* dX, T* dh0);

// ---- optim.cc ---------------------------------------------------------------------------
// Parameter updates over flat arrays p (params), g (gradients), with their state arrays.
// Weight decay (L2) adds wd·p to the gradient before the update, except AdamW
// (decoupled = true) which applies p -= lr·wd·p separately (Loshchilov & Hutter).

// SGD with momentum (PyTorch form): v = momentum·v + g; step = nesterov ? g + momentum·v : v;
// p -= lr·step. velocity may be null when momentum == 0.
template <typename T>
void sgd_update(index_t n, T* p, const T* g, T* velocity, T lr, T momentum, bool nesterov,
                T weight_decay);

// Adam with bias correction; step counts from 1.
template <typename T>
void adam_update(index_t n, T* p, const T* g, T* m, T* v, T lr, T beta1, T beta2, T eps,
                 T weight_decay, bool decoupled, std::int64_t step);

// Adagrad (as in min-char-rnn): h += g²; p -= lr·g / (sqrt(h) + eps)
template <typename T>
void adagrad_update(index_t n, T* p, const T* g, T* h, T lr, T eps, T weight_decay);

// RMSProp: s = alpha·s + (1 - alpha)·g²; p -= lr·g / (sqrt(s) + eps)
template <typename T>
void rmsprop_update(index_t n, T* p, const T* g, T* s, T lr, T alpha, T eps, T weight_decay);

}  // namespace nrnn
