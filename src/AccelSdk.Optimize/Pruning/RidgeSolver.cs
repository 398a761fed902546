using System.Numerics;

namespace AccelSdk.Optimize.Pruning;

/// <summary>
/// Ridge regression towards a prior: W = argmin |X W - Y|^2 + lambda |W - W0|^2, i.e. W = W0 + D with
/// D = (X'X + lambda I)^-1 X'R and R = Y - X W0. With fewer rows than features the same D comes from the smaller
/// dual system, D = X' (X X' + lambda I)^-1 R. Both are solved by Cholesky in double precision.
/// </summary>
internal static class RidgeSolver
{
    /// <summary>
    /// Solves for <paramref name="prior"/> (features x outputs, row-major) in place. <paramref name="x"/> is rows x
    /// features and <paramref name="y"/> rows x outputs, both row-major. <paramref name="ridge"/> is relative to the
    /// mean diagonal of X'X.
    /// </summary>
    public static void Solve(float[] x, float[] y, int rows, int features, int outputs, double[] prior, double ridge)
    {
        var delta = RidgeSystem.Build(x, Residual(x, y, rows, features, outputs, prior), rows, features, outputs).Delta(ridge)
            ?? throw Singular(ridge);
        for (var i = 0; i < prior.Length; i++) prior[i] += delta[i];
    }

    /// <summary>R = Y - X W0, rows x outputs.</summary>
    internal static double[] Residual(float[] x, float[] y, int rows, int features, int outputs, double[] prior)
    {
        var residual = new double[rows * outputs];
        Parallel.For(0, rows, r =>
        {
            var res = residual.AsSpan(r * outputs, outputs);
            for (var o = 0; o < outputs; o++) res[o] = y[r * outputs + o];
            for (var f = 0; f < features; f++)
            {
                var v = (double)x[r * features + f];
                if (v != 0) Axpy(-v, prior.AsSpan(f * outputs, outputs), res);
            }
        });
        return residual;
    }

    /// <summary>|R - X D|^2 summed over all rows: the squared error that the correction D leaves.</summary>
    internal static double Error(float[] x, double[] residual, int rows, int features, int outputs, double[] delta)
    {
        var perRow = new double[rows];
        Parallel.For(0, rows, r =>
        {
            var res = residual.AsSpan(r * outputs, outputs).ToArray();
            for (var f = 0; f < features; f++)
            {
                var v = (double)x[r * features + f];
                if (v != 0) Axpy(-v, delta.AsSpan(f * outputs, outputs), res);
            }
            perRow[r] = Dot(res, res);
        });
        return perRow.Sum();
    }

    internal static OptimizationException Singular(double ridge) =>
        new($"least-squares recovery: the calibration activations give a singular system at ridge {ridge:G3}; give more calibration samples or a larger ridge");

    /// <summary>
    /// The normal equations of one fit, built once and solved for any ridge: X'X and X'R (primal, rows >= features),
    /// or X X' and R (dual).
    /// </summary>
    internal sealed class RidgeSystem
    {
        private readonly float[] _x;
        private readonly double[] _matrix;
        private readonly double[] _rhs;
        private readonly int _rows;
        private readonly int _features;
        private readonly int _outputs;
        private readonly double _energy;

        private RidgeSystem(float[] x, double[] matrix, double[] rhs, int rows, int features, int outputs, double energy)
        {
            (_x, _matrix, _rhs, _rows, _features, _outputs, _energy) = (x, matrix, rhs, rows, features, outputs, energy);
        }

        private bool IsPrimal => _rows >= _features;

        public static RidgeSystem Build(float[] x, double[] residual, int rows, int features, int outputs)
        {
            double energy = 0;
            foreach (var v in x) energy += (double)v * v;
            energy = Math.Max(energy / features, 1e-12);
            if (rows < features) return new RidgeSystem(x, Kernel(x, rows, features), residual, rows, features, outputs, energy);
            var xt = new float[features * rows];
            for (var r = 0; r < rows; r++)
                for (var f = 0; f < features; f++) xt[f * rows + r] = x[r * features + f];
            var gram = new double[features * features];
            Parallel.For(0, features, a =>
            {
                var xa = xt.AsSpan(a * rows, rows);
                for (var b = 0; b <= a; b++) gram[a * features + b] = gram[b * features + a] = Dot(xa, xt.AsSpan(b * rows, rows));
            });
            var rhs = new double[features * outputs];
            for (var r = 0; r < rows; r++)
            {
                var res = residual.AsSpan(r * outputs, outputs);
                for (var f = 0; f < features; f++)
                {
                    var v = (double)x[r * features + f];
                    if (v != 0) Axpy(v, res, rhs.AsSpan(f * outputs, outputs));
                }
            }
            return new RidgeSystem(x, gram, rhs, rows, features, outputs, energy);
        }

        /// <summary>The correction D (features x outputs) at <paramref name="ridge"/> relative to the mean feature energy; null when singular.</summary>
        public double[]? Delta(double ridge)
        {
            var n = IsPrimal ? _features : _rows;
            var a = (double[])_matrix.Clone();
            var lambda = ridge * _energy;
            for (var i = 0; i < n; i++) a[i * n + i] += lambda;
            var z = (double[])_rhs.Clone();
            if (!CholeskySolve(a, n, z, _outputs)) return null;
            if (IsPrimal) return z;
            var delta = new double[_features * _outputs];
            for (var r = 0; r < _rows; r++)
            {
                var coefficients = z.AsSpan(r * _outputs, _outputs);
                for (var f = 0; f < _features; f++)
                {
                    var v = (double)_x[r * _features + f];
                    if (v != 0) Axpy(v, coefficients, delta.AsSpan(f * _outputs, _outputs));
                }
            }
            return delta;
        }

        private static double[] Kernel(float[] x, int rows, int features)
        {
            var kernel = new double[rows * rows];
            Parallel.For(0, rows, i =>
            {
                var xi = x.AsSpan(i * features, features);
                for (var j = 0; j <= i; j++) kernel[i * rows + j] = kernel[j * rows + i] = Dot(xi, x.AsSpan(j * features, features));
            });
            return kernel;
        }
    }

    /// <summary>
    /// Solves A Z = B for symmetric positive definite A (n x n, overwritten by its factor); B (n x m) becomes Z. False
    /// when A is not positive definite.
    /// </summary>
    internal static bool CholeskySolve(double[] a, int n, double[] b, int m)
    {
        for (var j = 0; j < n; j++)
        {
            var rowJ = a.AsSpan(j * n, j);
            var d = a[j * n + j] - Dot(rowJ, rowJ);
            if (!(d > 0)) return false;
            var l = Math.Sqrt(d);
            a[j * n + j] = l;
            var column = j;
            if ((n - j) * (long)j > 1 << 16)
            {
                Parallel.For(j + 1, n, i => a[i * n + column] = (a[i * n + column] - Dot(a.AsSpan(i * n, column), a.AsSpan(column * n, column))) / l);
            }
            else
            {
                for (var i = j + 1; i < n; i++) a[i * n + j] = (a[i * n + j] - Dot(a.AsSpan(i * n, j), rowJ)) / l;
            }
        }
        for (var i = 0; i < n; i++)
        {
            var bi = b.AsSpan(i * m, m);
            for (var k = 0; k < i; k++) Axpy(-a[i * n + k], b.AsSpan(k * m, m), bi);
            Scale(bi, 1 / a[i * n + i]);
        }
        for (var i = n - 1; i >= 0; i--)
        {
            var bi = b.AsSpan(i * m, m);
            for (var k = i + 1; k < n; k++) Axpy(-a[k * n + i], b.AsSpan(k * m, m), bi);
            Scale(bi, 1 / a[i * n + i]);
        }
        return true;
    }

    internal static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var width = Vector<float>.Count;
        var acc = Vector<float>.Zero;
        var i = 0;
        for (; i <= a.Length - width; i += width) acc += new Vector<float>(a.Slice(i)) * new Vector<float>(b.Slice(i));
        double sum = Vector.Sum(acc);
        for (; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }

    private static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        var width = Vector<double>.Count;
        var acc = Vector<double>.Zero;
        var i = 0;
        for (; i <= a.Length - width; i += width) acc += new Vector<double>(a.Slice(i)) * new Vector<double>(b.Slice(i));
        var sum = Vector.Sum(acc);
        for (; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }

    private static void Axpy(double alpha, ReadOnlySpan<double> x, Span<double> y)
    {
        var width = Vector<double>.Count;
        var va = new Vector<double>(alpha);
        var i = 0;
        for (; i <= x.Length - width; i += width) (new Vector<double>(y.Slice(i)) + va * new Vector<double>(x.Slice(i))).CopyTo(y.Slice(i));
        for (; i < x.Length; i++) y[i] += alpha * x[i];
    }

    private static void Scale(Span<double> x, double factor)
    {
        for (var i = 0; i < x.Length; i++) x[i] *= factor;
    }
}
