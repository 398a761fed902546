using System.Globalization;
using System.Text;

namespace AccelSdk.Optimize.Data;

/// <summary>
/// BERT's uncased WordPiece tokenizer (the one MiniLM was trained with): lower-case, strip accents, split on
/// whitespace and punctuation, then greedy longest-match word pieces with the <c>##</c> continuation prefix.
/// </summary>
public sealed class WordPieceTokenizer
{
    private readonly Dictionary<string, long> _vocabulary;

    /// <summary>Creates a tokenizer from a vocabulary of one token per line (line number = id).</summary>
    public WordPieceTokenizer(IEnumerable<string> vocabulary)
    {
        _vocabulary = new Dictionary<string, long>(StringComparer.Ordinal);
        long id = 0;
        foreach (var token in vocabulary) _vocabulary.TryAdd(token, id++);
        foreach (var special in new[] { "[CLS]", "[SEP]", "[UNK]" })
        {
            if (!_vocabulary.ContainsKey(special)) throw new CalibrationDataException("vocabulary", $"has no {special} token");
        }
    }

    /// <summary>Loads a vocab.txt file.</summary>
    public static WordPieceTokenizer Load(string vocabPath)
    {
        if (!File.Exists(vocabPath)) throw new CalibrationDataException(vocabPath, "vocabulary file not found");
        return new WordPieceTokenizer(File.ReadLines(vocabPath));
    }

    /// <summary>Token ids of <paramref name="text"/> between [CLS] and [SEP], cut to <paramref name="maxLength"/>.</summary>
    public long[] Encode(string text, int maxLength = 128)
    {
        var ids = new List<long> { _vocabulary["[CLS]"] };
        foreach (var word in BasicTokens(text))
        {
            ids.AddRange(WordPieces(word));
            if (ids.Count >= maxLength - 1) break;
        }
        if (ids.Count > maxLength - 1) ids.RemoveRange(maxLength - 1, ids.Count - (maxLength - 1));
        ids.Add(_vocabulary["[SEP]"]);
        return ids.ToArray();
    }

    private static IEnumerable<string> BasicTokens(string text)
    {
        var normalized = text.ToLowerInvariant().Normalize(NormalizationForm.FormD);
        var current = new StringBuilder();
        foreach (var ch in normalized)
        {
            var category = CharUnicodeInfo.GetUnicodeCategory(ch);
            if (category == UnicodeCategory.NonSpacingMark || char.IsControl(ch) && !char.IsWhiteSpace(ch)) continue;
            if (char.IsWhiteSpace(ch))
            {
                if (current.Length > 0) yield return current.ToString();
                current.Clear();
            }
            else if (char.IsPunctuation(ch) || char.IsSymbol(ch) || IsCjk(ch))
            {
                if (current.Length > 0) yield return current.ToString();
                current.Clear();
                yield return ch.ToString();
            }
            else
            {
                current.Append(ch);
            }
        }
        if (current.Length > 0) yield return current.ToString();
    }

    private static bool IsCjk(char c) => c is >= '\u4E00' and <= '\u9FFF' or >= '\u3400' and <= '\u4DBF' or >= '\uF900' and <= '\uFAFF';

    private IEnumerable<long> WordPieces(string word)
    {
        if (word.Length > 100)
        {
            yield return _vocabulary["[UNK]"];
            yield break;
        }
        var pieces = new List<long>();
        var start = 0;
        while (start < word.Length)
        {
            long id = -1;
            var end = word.Length;
            for (; end > start; end--)
            {
                var piece = (start > 0 ? "##" : "") + word[start..end];
                if (_vocabulary.TryGetValue(piece, out id)) break;
                id = -1;
            }
            if (id < 0)
            {
                pieces = new List<long> { _vocabulary["[UNK]"] };
                break;
            }
            pieces.Add(id);
            start = end;
        }
        foreach (var p in pieces) yield return p;
    }
}
