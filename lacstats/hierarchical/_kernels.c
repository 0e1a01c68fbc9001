/* The hand-written log densities and gradients of lacstats' hierarchical models, in C.
 *
 * The same functions as the numba code of _kernels.py (the module docstring there says what
 * they compute, and the tests check both against PyMC's models and against each other),
 * line by line, so that a machine with a C compiler compiles them in about a second the
 * first time instead of numba's several seconds. Compiled with -std=c11 and
 * -ffp-contract=off, without fast-math: the same inputs give the same bits on one machine.
 *
 * The data arrive packed (kernels.pack): F the float arrays end to end, I = [S, S scalars,
 * n_float_arrays, (offset, length) per float array, n_int_arrays, (offset, length) per int
 * array, the int arrays].
 */
#define _DEFAULT_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

typedef int64_t i64;

#define LGAMMA(x) lgamma_r_((x))

static double lgamma_r_(double x) {
    int sign;
    return lgamma_r(x, &sign); /* glibc's lgamma writes a global: not for threads */
}

/* -- scalar helpers -------------------------------------------------------------------- */
static double digamma_(double x) {
    double result = 0.0;
    while (x < 6.0) {
        result -= 1.0 / x;
        x += 1.0;
    }
    double f = 1.0 / (x * x);
    double series =
        f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f * (1.0 / 132)))));
    return result + log(x) - 0.5 / x - series;
}

static double softplus_(double x) {
    if (x > 0) return x + log1p(exp(-x));
    return log1p(exp(x));
}

static double expit_(double x) {
    if (x >= 0) return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

/* An Exponential(rate) prior of exp(u), with the log Jacobian: log density, d/du. */
static double exponential_log(double u, double rate, double *d) {
    double v = exp(u);
    *d = 1.0 - rate * v;
    return log(rate) - rate * v + u;
}

/* -- small dense linear algebra on flat arrays (row-major, at an offset) ---------------- */
static int cholesky(const double *a, i64 ao, double *c, i64 co, i64 n) {
    for (i64 j = 0; j < n; j++) {
        double s = a[ao + j * n + j];
        for (i64 k = 0; k < j; k++) s -= c[co + j * n + k] * c[co + j * n + k];
        if (!(s > 0.0)) return 0;
        double d = sqrt(s);
        c[co + j * n + j] = d;
        for (i64 i = j + 1; i < n; i++) {
            s = a[ao + i * n + j];
            for (i64 k = 0; k < j; k++) s -= c[co + i * n + k] * c[co + j * n + k];
            c[co + i * n + j] = s / d;
        }
        for (i64 i = 0; i < j; i++) c[co + i * n + j] = 0.0;
    }
    return 1;
}

/* C^-1 B in place: C (n x n, lower) at c[co:], B (n x m) at b[bo:]. */
static void forward(const double *c, i64 co, i64 n, double *b, i64 bo, i64 m) {
    for (i64 col = 0; col < m; col++) {
        for (i64 i = 0; i < n; i++) {
            double s = b[bo + i * m + col];
            for (i64 k = 0; k < i; k++) s -= c[co + i * n + k] * b[bo + k * m + col];
            b[bo + i * m + col] = s / c[co + i * n + i];
        }
    }
}

/* (C C')^-1 into out (rows o_stride apart), using w[wo:wo + n n] as scratch. */
static void inverse_from_cholesky(const double *c, i64 co, i64 n, double *out, i64 oo,
                                  i64 o_stride, double *w, i64 wo) {
    for (i64 i = 0; i < n * n; i++) w[wo + i] = 0.0;
    for (i64 i = 0; i < n; i++) w[wo + i * n + i] = 1.0;
    forward(c, co, n, w, wo, n);
    for (i64 i = 0; i < n; i++) {
        for (i64 j = 0; j < i + 1; j++) {
            double s = 0.0;
            for (i64 k = i; k < n; k++) s += w[wo + k * n + i] * w[wo + k * n + j];
            out[oo + i * o_stride + j] = s;
            out[oo + j * o_stride + i] = s;
        }
    }
}

/* -- covariance parameters: PyMC's transforms and priors -------------------------------- */
static void unpack_cov(const double *x, i64 xo, i64 q, int correlated, double *L, i64 lo) {
    for (i64 i = 0; i < q * q; i++) L[lo + i] = 0.0;
    i64 k = xo;
    for (i64 i = 0; i < q; i++) {
        if (correlated) {
            for (i64 j = 0; j < i; j++) L[lo + i * q + j] = x[k++];
        }
        L[lo + i * q + i] = exp(x[k]);
        k++;
    }
}

static double cov_prior(const double *x, i64 xo, i64 q, int correlated, const double *L,
                        i64 lo, double rate, double lkj_eta, const double *dL, i64 dofs,
                        double *grad) {
    double lp = 0.0;
    i64 k = xo;
    for (i64 i = 0; i < q; i++) {
        double tau = L[lo + i * q + i];
        if (!correlated) {
            lp += log(rate) - rate * tau + x[k];
            grad[k] = (dL[dofs + i * q + i] - rate) * tau + 1.0;
            k++;
            continue;
        }
        double sd2 = 0.0;
        for (i64 j = 0; j < i + 1; j++) sd2 += L[lo + i * q + j] * L[lo + i * q + j];
        double sd = sqrt(sd2);
        double a = 2.0 * lkj_eta - 2.0 + (double)q - (double)i;
        lp += log(rate) - rate * sd + a * log(tau) - (a + (double)i) * log(sd);
        double coef = (-rate - (a + (double)i) / sd) / sd;
        for (i64 j = 0; j < i; j++) {
            grad[k] = dL[dofs + i * q + j] + coef * L[lo + i * q + j];
            k++;
        }
        lp += x[k];
        grad[k] = (dL[dofs + i * q + i] + coef * tau + a / tau) * tau + 1.0;
        k++;
    }
    return lp;
}

/* -- the collapsed gaussian model -------------------------------------------------------- */
double lacstats_collapsed_logp(const double *x, double *grad, const double *F, const i64 *I) {
    i64 G = I[1], q = I[2], p1 = I[3];
    int correlated = I[4] != 0;
    i64 p = p1 - 1;
    i64 h = I[0] + 2;
    i64 o_zz = I[h], o_s = I[h + 2], o_t = I[h + 4], o_lam = I[h + 6], o_sc = I[h + 8];
    double n = F[o_sc], sd_rate = F[o_sc + 1], sigma_rate = F[o_sc + 2],
           lkj_eta = F[o_sc + 3];
    i64 qq = q * q, qp = q * p1, Gqp = G * q * p1;
    i64 size = 7 * qq + 2 * G * qq + 3 * Gqp + 2 * p1 * p1 + 2 * p * p + p1 + q +
               (qq > p * p ? qq : p * p);
    double *w = malloc((size_t)(size > 0 ? size : 1) * sizeof(double));
    if (w == NULL) return NAN;
    i64 o_L = 0;
    i64 o_A = o_L + qq;
    i64 o_C = o_A + G * qq;
    i64 o_B = o_C + G * qq;
    i64 o_U = o_B + Gqp;
    i64 o_AV = o_U + Gqp;
    i64 o_H = o_AV + Gqp;
    i64 o_K = o_H + p1 * p1;
    i64 o_CK = o_K + p * p;
    i64 o_V = o_CK + p * p;
    i64 o_v = o_V + p1 * p1;
    i64 o_M = o_v + p1;
    i64 o_Mi = o_M + qq;
    i64 o_GL = o_Mi + qq;
    i64 o_ZL = o_GL + qq;
    i64 o_Eww = o_ZL + qq;
    i64 o_mw = o_Eww + qq;
    i64 o_tmp = o_mw + q;

    double sigma = exp(x[0]);
    double s2 = sigma * sigma;
    unpack_cov(x, 1, q, correlated, w, o_L);
    double logdet_c = 0.0;
    for (i64 g = 0; g < G; g++) {
        i64 zz = o_zz + g * qq, s_g = o_s + g * qp;
        i64 a_g = o_A + g * qq, c_g = o_C + g * qq, b_g = o_B + g * qp;
        for (i64 i = 0; i < q; i++) {
            for (i64 j = 0; j < q; j++) {
                double t = 0.0;
                for (i64 k = i; k < q; k++)
                    for (i64 m = j; m < q; m++)
                        t += w[o_L + k * q + i] * F[zz + k * q + m] * w[o_L + m * q + j];
                w[a_g + i * q + j] = t;
                w[o_M + i * q + j] = t / s2 + (i == j ? 1.0 : 0.0);
            }
            for (i64 j = 0; j < p1; j++) w[b_g + i * p1 + j] = 0.0;
            for (i64 k = i; k < q; k++) {
                double lki = w[o_L + k * q + i];
                for (i64 j = 0; j < p1; j++) w[b_g + i * p1 + j] += lki * F[s_g + k * p1 + j];
            }
        }
        if (!cholesky(w, o_M, w, c_g, q)) {
            free(w);
            return -INFINITY;
        }
        for (i64 i = 0; i < q; i++) {
            logdet_c += log(w[c_g + i * q + i]);
            for (i64 j = 0; j < p1; j++) {
                double t = w[b_g + i * p1 + j];
                for (i64 k = 0; k < i; k++)
                    t -= w[c_g + i * q + k] * w[o_U + (g * q + k) * p1 + j];
                w[o_U + (g * q + i) * p1 + j] = t / w[c_g + i * q + i];
            }
        }
    }
    for (i64 i = 0; i < p1; i++) {
        for (i64 j = i; j < p1; j++) {
            double t = 0.0;
            for (i64 r = 0; r < G * q; r++) t += w[o_U + r * p1 + i] * w[o_U + r * p1 + j];
            w[o_H + i * p1 + j] = F[o_t + i * p1 + j] - t / s2;
            w[o_H + j * p1 + i] = w[o_H + i * p1 + j];
        }
    }
    for (i64 i = 0; i < p; i++) {
        for (i64 j = 0; j < p; j++) w[o_K + i * p + j] = w[o_H + i * p1 + j] / s2;
        w[o_K + i * p + i] += F[o_lam + i];
    }
    if (!cholesky(w, o_K, w, o_CK, p)) {
        free(w);
        return -INFINITY;
    }
    for (i64 i = 0; i < p1 * p1; i++) w[o_V + i] = 0.0;
    inverse_from_cholesky(w, o_CK, p, w, o_V, p1, w, o_tmp);
    double quad = 0.0;
    double logdet_k = 0.0;
    for (i64 i = 0; i < p; i++) {
        double t = 0.0;
        for (i64 j = 0; j < p; j++) t += w[o_V + i * p1 + j] * w[o_H + j * p1 + p];
        w[o_v + i] = -t / s2;
        quad += t * w[o_H + i * p1 + p] / s2;
        logdet_k += 2.0 * log(w[o_CK + i * p + i]) - log(F[o_lam + i]);
    }
    w[o_v + p] = 1.0;
    double logp = -0.5 * ((w[o_H + p * p1 + p] - quad) / s2 + n * log(s2));
    logp -= 0.5 * (2.0 * logdet_c + logdet_k);

    /* the gradient */
    double es = 0.0;
    for (i64 i = 0; i < p1; i++)
        for (i64 j = 0; j < p1; j++)
            es += F[o_t + i * p1 + j] * (w[o_V + i * p1 + j] + w[o_v + i] * w[o_v + j]);
    for (i64 g = 0; g < G; g++) {
        i64 c_g = o_C + g * qq, b_g = o_B + g * qp;
        inverse_from_cholesky(w, c_g, q, w, o_Mi, q, w, o_tmp);
        for (i64 i = 0; i < q; i++) {
            for (i64 j = 0; j < p1; j++) {
                double t = 0.0;
                for (i64 k = 0; k < q; k++) t += w[o_Mi + i * q + k] * w[b_g + k * p1 + j];
                w[o_U + (g * q + i) * p1 + j] = t / s2;
            }
        }
        for (i64 i = 0; i < qq; i++) w[c_g + i] = w[o_Mi + i];
    }
    for (i64 r = 0; r < G * q; r++) {
        for (i64 j = 0; j < p1; j++) {
            double t = 0.0;
            for (i64 k = 0; k < p; k++) t += w[o_U + r * p1 + k] * w[o_V + k * p1 + j];
            w[o_AV + r * p1 + j] = t;
        }
    }
    for (i64 i = 0; i < qq; i++) w[o_GL + i] = 0.0;
    for (i64 g = 0; g < G; g++) {
        i64 zz = o_zz + g * qq, s_g = o_s + g * qp;
        i64 a_g = o_A + g * qq, c_g = o_C + g * qq, b_g = o_B + g * qp;
        for (i64 i = 0; i < q; i++) {
            double t = 0.0;
            for (i64 k = 0; k < p1; k++) t += w[o_U + (g * q + i) * p1 + k] * w[o_v + k];
            w[o_mw + i] = t;
        }
        for (i64 i = 0; i < q; i++) {
            for (i64 j = 0; j < q; j++) {
                double e = w[c_g + i * q + j] + w[o_mw + i] * w[o_mw + j];
                for (i64 k = 0; k < p1; k++)
                    e += w[o_AV + (g * q + i) * p1 + k] * w[o_U + (g * q + j) * p1 + k];
                w[o_Eww + i * q + j] = e;
                es += w[a_g + i * q + j] * e;
            }
            for (i64 j = 0; j < q; j++) {
                double t = 0.0;
                for (i64 k = 0; k < p1; k++) {
                    double ewv = w[o_AV + (g * q + j) * p1 + k] + w[o_mw + j] * w[o_v + k];
                    t += F[s_g + i * p1 + k] * ewv;
                    if (i == 0) es -= 2.0 * w[b_g + j * p1 + k] * ewv;
                }
                w[o_GL + i * q + j] += t;
            }
        }
        for (i64 i = 0; i < q; i++) {
            for (i64 j = 0; j < q; j++) {
                double t = 0.0;
                for (i64 k = 0; k < q; k++) {
                    double zl = 0.0;
                    for (i64 m = k; m < q; m++) zl += F[zz + i * q + m] * w[o_L + m * q + k];
                    t += zl * w[o_Eww + k * q + j];
                }
                w[o_GL + i * q + j] -= t;
            }
        }
    }
    for (i64 i = 0; i < qq; i++) w[o_GL + i] /= s2;
    double dsigma = -n / sigma + es / (s2 * sigma);
    double d_sigma;
    double lp_sigma = exponential_log(x[0], sigma_rate, &d_sigma);
    grad[0] = dsigma * sigma + d_sigma;
    logp += lp_sigma;
    logp += cov_prior(x, 1, q, correlated, w, o_L, sd_rate, lkj_eta, w, o_GL, grad);
    free(w);
    return logp;
}

/* -- the full likelihood ------------------------------------------------------------------ */
static void family_constants(i64 code, double p0, double p1, double *c0, double *c1) {
    *c0 = 0.0;
    *c1 = 0.0;
    if (code == 0) {
        *c0 = -log(p0);
    } else if (code == 1) {
        double nu = p1;
        *c0 = LGAMMA((nu + 1.0) / 2.0) - LGAMMA(nu / 2.0) - 0.5 * log(nu) - log(p0);
        *c1 = 0.5 * (digamma_((nu + 1.0) / 2.0) - digamma_(nu / 2.0) - 1.0 / nu);
    } else if (code == 2) {
        *c0 = p0 * log(p0) - LGAMMA(p0);
        *c1 = log(p0) + 1.0 - digamma_(p0);
    } else if (code == 6) {
        double phi = 1.0 / (p0 * p0);
        *c0 = -LGAMMA(phi) + phi * log(phi);
        *c1 = -digamma_(phi) + log(phi) + 1.0;
    }
}

/* A row's log density (less what depends on the data alone); derivatives with respect to
 * eta and to the family's two parameters into d[0..2]. */
static double family_row(i64 code, double y, double eta, double n, double p0, double p1,
                         double c0, double c1, double *d) {
    d[1] = 0.0;
    d[2] = 0.0;
    if (code == 0) {
        double r = (y - eta) / p0;
        d[0] = r / p0;
        d[1] = (r * r - 1.0) / p0;
        return c0 - 0.5 * r * r;
    }
    if (code == 1) {
        double z = (y - eta) / p0;
        double t = log1p(z * z / p1);
        double w = (p1 + 1.0) / (p1 + z * z);
        d[0] = w * z / p0;
        d[1] = (w * z * z - 1.0) / p0;
        d[2] = c1 + 0.5 * (w * z * z / p1 - t);
        return c0 - 0.5 * (p1 + 1.0) * t;
    }
    if (code == 2) {
        double ratio = y * exp(-eta);
        double logy = log(y);
        d[0] = p0 * (ratio - 1.0);
        d[1] = c1 - eta + logy - ratio;
        return c0 - p0 * eta + (p0 - 1.0) * logy - p0 * ratio;
    }
    if (code == 3 || code == 4) {
        d[0] = y - n * expit_(eta);
        return y * eta - n * softplus_(eta);
    }
    if (code == 5) {
        double mu = exp(eta);
        d[0] = y - mu;
        return y * eta - mu;
    }
    double phi = 1.0 / (p0 * p0);
    double lphi = log(phi);
    double total = (lphi > eta ? lphi : eta) + log1p(exp(-fabs(lphi - eta)));
    double share = exp(eta - total);
    double dphi = digamma_(y + phi) + c1 - total - (y + phi) * exp(-total);
    d[0] = y - (y + phi) * share;
    d[1] = dphi * (-2.0 / (p0 * p0 * p0));
    return LGAMMA(y + phi) + c0 + y * eta - (y + phi) * total;
}

double lacstats_full_logp(const double *x, double *grad, i64 dim, const double *F,
                          const i64 *I) {
    i64 N = I[1], G = I[2], q = I[3], n_fixed = I[4];
    int correlated = I[5] != 0, has_outer = I[6] != 0;
    i64 R = I[7];
    int outer_centred = I[8] != 0, obs_effects = I[9] != 0;
    i64 code = I[10], n_fam = I[11], n_centred = I[12];
    i64 h = I[0] + 2;
    i64 o_y = I[h], o_trials = I[h + 2], o_offset = I[h + 4], o_Q = I[h + 6];
    i64 o_Rinv = I[h + 8], o_Z = I[h + 10], o_psd = I[h + 12], o_fp = I[h + 14],
        o_sc = I[h + 16];
    int has_trials = I[h + 3] > 0, has_offset = I[h + 5] > 0;
    double beta_sd = F[o_sc], group_rate = F[o_sc + 1], lkj_eta = F[o_sc + 2],
           obs_rate = F[o_sc + 3];
    h = h + 2 * I[h - 1] + 1;
    i64 o_g = I[h], o_outer = I[h + 2], o_slot = I[h + 4], o_centred = I[h + 6];
    int grouped = q > 0;
    i64 qm = grouped ? q : 1;
    i64 n_cov = correlated ? (q * (q + 1)) / 2 : q;
    i64 x_mu = n_fixed;
    i64 x_cov = x_mu + qm;
    i64 x_tau = x_cov + (grouped ? n_cov : 0);
    i64 x_r = x_tau + (has_outer ? 1 : 0);
    i64 x_cc = x_r + (has_outer ? R : 0);
    i64 x_ccz = x_cc + n_centred;
    i64 x_cz = x_ccz + (q > 1 ? n_centred * (q - 1) : 0);
    i64 x_sobs = x_cz + (grouped ? (G - n_centred) * q : 0);
    i64 x_obs = x_sobs + (obs_effects ? 1 : 0);
    i64 x_fam = x_obs + (obs_effects ? N : 0);
    i64 qq = q * q, Gq = G * q;
    i64 size = 2 * qq + 3 * Gq + G + 2 * R + q + 1;
    double *w = malloc((size_t)size * sizeof(double));
    if (w == NULL) return NAN;
    i64 o_L = 0;
    i64 o_c = qq, o_z = qq + Gq;
    i64 o_c0 = o_z + Gq, o_r = o_z + Gq + G;
    i64 o_dc = o_r + R, o_dL = o_r + R + Gq;
    i64 o_dr = o_dL + qq, o_dz = o_dL + qq + R;
    for (i64 k = 0; k < dim; k++) grad[k] = 0.0;
    for (i64 k = o_dc; k < size; k++) w[k] = 0.0;
    double lp = 0.0;

    for (i64 j = 0; j < n_fixed; j++) {
        double s = 0.0;
        for (i64 k = 0; k < n_fixed; k++) s += F[o_Rinv + j * n_fixed + k] * x[k];
        lp -= 0.5 * (s / beta_sd) * (s / beta_sd);
        for (i64 k = 0; k < n_fixed; k++)
            grad[k] -= F[o_Rinv + j * n_fixed + k] * s / (beta_sd * beta_sd);
    }
    for (i64 k = 0; k < qm; k++) {
        double sd = F[o_psd + k];
        lp -= 0.5 * (x[x_mu + k] / sd) * (x[x_mu + k] / sd);
        grad[x_mu + k] -= x[x_mu + k] / (sd * sd);
    }

    double tau_r = 0.0;
    double L00 = 1.0;
    if (grouped) {
        unpack_cov(x, x_cov, q, correlated, w, o_L);
        L00 = w[o_L];
        if (has_outer) {
            tau_r = exp(x[x_tau]);
            double dv;
            lp += exponential_log(x[x_tau], group_rate, &dv);
            grad[x_tau] += dv;
            for (i64 k = 0; k < R; k++) {
                double m = x[x_r + k];
                if (outer_centred) {
                    double d = (m - x[x_mu]) / tau_r;
                    w[o_r + k] = m - x[x_mu];
                    lp += -log(tau_r) - 0.5 * d * d;
                    grad[x_r + k] -= d / tau_r;
                    grad[x_mu] += d / tau_r;
                    grad[x_tau] += d * d - 1.0;
                } else {
                    w[o_r + k] = tau_r * m;
                    lp -= 0.5 * m * m;
                    grad[x_r + k] -= m;
                }
            }
        }
        for (i64 g = 0; g < G; g++) {
            i64 k0 = I[o_slot + g];
            double centre0 = x[x_mu];
            if (has_outer) centre0 += w[o_r + I[o_outer + g]];
            w[o_c0 + g] = centre0;
            if (I[o_centred + g]) {
                double c0 = x[x_cc + k0];
                double d = (c0 - centre0) / L00;
                lp += -log(L00) - 0.5 * d * d;
                grad[x_cc + k0] -= d / L00;
                w[o_z + g * q] = d;
                for (i64 k = 1; k < q; k++) {
                    double e = x[x_ccz + k0 * (q - 1) + k - 1];
                    w[o_z + g * q + k] = e;
                    lp -= 0.5 * e * e;
                    grad[x_ccz + k0 * (q - 1) + k - 1] -= e;
                }
            } else {
                for (i64 k = 0; k < q; k++) {
                    double e = x[x_cz + k0 * q + k];
                    w[o_z + g * q + k] = e;
                    lp -= 0.5 * e * e;
                    grad[x_cz + k0 * q + k] -= e;
                }
            }
            for (i64 k = 0; k < q; k++) {
                double s = k == 0 ? centre0 : x[x_mu + k];
                for (i64 m = 0; m < k + 1; m++) s += w[o_L + k * q + m] * w[o_z + g * q + m];
                w[o_c + g * q + k] = s;
            }
        }
    }

    double p0 = n_fam > 0 ? exp(x[x_fam]) : 0.0;
    double p1 = n_fam > 1 ? exp(x[x_fam + 1]) : 0.0;
    double c0_, c1_;
    family_constants(code, p0, p1, &c0_, &c1_);
    double sobs = 0.0;
    if (obs_effects) {
        sobs = exp(x[x_sobs]);
        double dv;
        lp += exponential_log(x[x_sobs], obs_rate, &dv);
        grad[x_sobs] += dv;
    }
    double dp0 = 0.0, dp1 = 0.0, dsobs = 0.0;
    double d[3];
    for (i64 i = 0; i < N; i++) {
        double eta = 0.0;
        for (i64 k = 0; k < n_fixed; k++) eta += F[o_Q + i * n_fixed + k] * x[k];
        i64 g = I[o_g + i];
        if (grouped) {
            for (i64 k = 0; k < q; k++) eta += F[o_Z + i * q + k] * w[o_c + g * q + k];
        } else {
            eta += x[x_mu];
        }
        if (has_offset) eta += F[o_offset + i];
        if (obs_effects) {
            double e = x[x_obs + i];
            eta += sobs * e;
            lp -= 0.5 * e * e;
        }
        double n = has_trials ? F[o_trials + i] : 1.0;
        lp += family_row(code, F[o_y + i], eta, n, p0, p1, c0_, c1_, d);
        double de = d[0];
        dp0 += d[1];
        dp1 += d[2];
        for (i64 k = 0; k < n_fixed; k++) grad[k] += F[o_Q + i * n_fixed + k] * de;
        if (grouped) {
            for (i64 k = 0; k < q; k++) w[o_dc + g * q + k] += de * F[o_Z + i * q + k];
        } else {
            grad[x_mu] += de;
        }
        if (obs_effects) {
            grad[x_obs + i] += de * sobs - x[x_obs + i];
            dsobs += de * x[x_obs + i];
        }
    }
    if (obs_effects) grad[x_sobs] += dsobs * sobs;
    for (i64 k = 0; k < n_fam; k++) {
        double value = k == 0 ? p0 : p1, dvalue = k == 0 ? dp0 : dp1;
        double kind = F[o_fp + 3 * k], a = F[o_fp + 3 * k + 1], b = F[o_fp + 3 * k + 2];
        double u = x[x_fam + k];
        double v, dv;
        if (kind == 0.0) {
            v = exponential_log(u, a, &dv);
        } else {
            v = a * log(b) - LGAMMA(a) + (a - 1.0) * u - b * value + u;
            dv = a - b * value;
        }
        lp += v;
        grad[x_fam + k] += dvalue * value + dv;
    }
    if (!grouped) {
        free(w);
        return lp;
    }

    for (i64 g = 0; g < G; g++) {
        i64 k0 = I[o_slot + g];
        double dcentre0 = 0.0;
        for (i64 k = 0; k < q; k++) {
            double dck = w[o_dc + g * q + k];
            if (k == 0) dcentre0 += dck;
            grad[x_mu + k] += dck;
            double s = 0.0;
            for (i64 m = k; m < q; m++) s += w[o_L + m * q + k] * w[o_dc + g * q + m];
            w[o_dz + k] = s;
            for (i64 m = 0; m < k + 1; m++) w[o_dL + k * q + m] += dck * w[o_z + g * q + m];
        }
        if (I[o_centred + g]) {
            double z0 = w[o_z + g * q];
            double dz0 = w[o_dz];
            double d_centre = z0 / L00 - dz0 / L00;
            grad[x_cc + k0] += dz0 / L00;
            dcentre0 += d_centre;
            grad[x_mu] += d_centre;
            w[o_dL] += (z0 * z0 - 1.0) / L00 - dz0 * z0 / L00;
            for (i64 k = 1; k < q; k++) grad[x_ccz + k0 * (q - 1) + k - 1] += w[o_dz + k];
        } else {
            for (i64 k = 0; k < q; k++) grad[x_cz + k0 * q + k] += w[o_dz + k];
        }
        if (has_outer) w[o_dr + I[o_outer + g]] += dcentre0;
    }
    if (has_outer) {
        for (i64 k = 0; k < R; k++) {
            double dr = w[o_dr + k];
            if (outer_centred) {
                grad[x_r + k] += dr;
                grad[x_mu] -= dr;
            } else {
                grad[x_r + k] += tau_r * dr;
                grad[x_tau] += dr * x[x_r + k] * tau_r;
            }
        }
    }
    lp += cov_prior(x, x_cov, q, correlated, w, o_L, group_rate, lkj_eta, w, o_dL, grad);
    free(w);
    return lp;
}

/* -- the C callbacks nutpie calls ------------------------------------------------------- */
/* nutpie's codes: 0 fine, 3 a gradient not finite, 4 a log density not finite. */
static int64_t status(double value, const double *out, uint64_t dim) {
    if (!isfinite(value)) return 4;
    for (uint64_t k = 0; k < dim; k++)
        if (!isfinite(out[k])) return 3;
    return 0;
}

/* user_data points to [F's address, F's length, I's address, I's length] */
int64_t lacstats_collapsed_entry(uint64_t dim, const double *x, double *out, double *logp,
                                 const uint64_t *meta) {
    double value = lacstats_collapsed_logp(x, out, (const double *)(uintptr_t)meta[0],
                                           (const i64 *)(uintptr_t)meta[2]);
    logp[0] = value;
    return status(value, out, dim);
}

int64_t lacstats_full_entry(uint64_t dim, const double *x, double *out, double *logp,
                            const uint64_t *meta) {
    double value = lacstats_full_logp(x, out, (i64)dim, (const double *)(uintptr_t)meta[0],
                                      (const i64 *)(uintptr_t)meta[2]);
    logp[0] = value;
    return status(value, out, dim);
}

int64_t lacstats_expand_entry(uint64_t dim, uint64_t expanded, const double *x, double *out,
                              const void *user_data) {
    (void)user_data;
    if (expanded != dim) return -1;
    for (uint64_t k = 0; k < dim; k++) out[k] = x[k];
    return 0;
}
