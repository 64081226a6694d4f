-- lib/captions.lua: template captions of MNIST digits from their label and two attributes
-- measured on the image, for experiments/text2img.lua.
--
--   thickness: the digit's ink mass (sum of its [0, 1] pixels) against the median of its
--              class (a thick 1 is a bold 1, not a 1 with an 8's ink): thin below, thick above.
--   slant:     the shear mu11 / mu02 of the ink's second moments (x to the right, y up; a
--              positive shear leans the top to the right), against one threshold for all
--              classes (the training digits' median): upright below, slanted above.
--
-- A combination (digit, thickness, slant) is a combo 1..40: (digit - 1) * 4 + (thick - 1) * 2
-- + slant, with digit 1..10 (the class, 1-based), thick and slant 1 or 2. Each combo has
-- C.VARIANTS captions (synonyms, numeral or word, three templates), all made of the words of
-- C.vocab; a caption is read as a bag of words (normalised counts over the vocabulary).
--
--   local C = require "lib.captions"
--   local th = C.fit(images, labels)          -- the thresholds, from training digits [N,784]
--   local combo = C.combos(images, labels, th)  -- [N] float combos 1..40
--   C.caption(combo, variant) -> string;  C.bow{strings} -> [n, #C.vocab]
local lg = require "luagan"

local C = {}
C.COMBOS = 40
C.DIGITS = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
local THICK = {{"thin", "light", "slim"}, {"thick", "bold", "heavy"}}
local SLANT = {{"upright", "straight", "vertical"}, {"slanted", "leaning", "italic"}}
local TEMPLATES = {"a %s %s %s", "a %s %s , %s", "%s digit : %s and %s"}
C.VARIANTS = #THICK[1] * #SLANT[1] * 2 * #TEMPLATES

-- the vocabulary, in a fixed order, and word -> index
C.vocab = {"a", ",", ":", "and", "digit"}
for _, set in ipairs{THICK[1], THICK[2], SLANT[1], SLANT[2], C.DIGITS} do
  for _, w in ipairs(set) do C.vocab[#C.vocab + 1] = w end
end
for d = 0, 9 do C.vocab[#C.vocab + 1] = tostring(d) end
local INDEX = {}
for i, w in ipairs(C.vocab) do INDEX[w] = i end

-- pixel coordinates of a 28 x 28 image as rows [784]: x to the right, y up
local xs, ys = {}, {}
for r = 0, 27 do
  for c = 0, 27 do xs[#xs + 1], ys[#ys + 1] = c, -r end
end
xs, ys = lg.tensor(xs):view(784, 1), lg.tensor(ys):view(784, 1)

-- images [N,784] (or [N,1,28,28]) in [0, 1] -> ink mass [N], shear [N]
function C.measure(x)
  x = x:reshape(x:size(1), 784)
  local m = x:sum(2, true):clamp(1e-6, math.huge)
  local mx, my = x:matmul(xs) / m, x:matmul(ys) / m
  local mxy = x:matmul(xs * ys) / m - mx * my
  local myy = (x:matmul(ys * ys) / m - my * my):clamp(1e-6, math.huge)
  return m:view(-1), (mxy / myy):view(-1)
end

local function median(t)
  local s = lg.sort(t)
  local n = s:size(1)
  return (s[(n + 1) // 2]:item() + s[n // 2 + 1]:item()) / 2
end

-- training digits [N,784] in [0, 1] and labels [N] (1..10) -> thresholds {mass = [10], shear =}
function C.fit(x, labels)
  local mass, shear = C.measure(x)
  local th = {mass = {}, shear = median(shear)}
  for c = 1, 10 do th.mass[c] = median(lg.masked_select(mass, labels:eq(c))) end
  th.mass_t = lg.tensor(th.mass)
  return th
end

-- the attributes of images x given the (requested or true) labels: thick [N] and slant [N],
-- each 1 or 2, and their combo [N]
function C.attributes(x, labels, th)
  local mass, shear = C.measure(x)
  local thick = mass:gt(th.mass_t:index_select(1, labels)) + 1
  local slant = shear:gt(th.shear) + 1
  return thick, slant, (labels - 1) * 4 + (thick - 1) * 2 + slant
end
function C.combos(x, labels, th) return select(3, C.attributes(x, labels, th)) end

-- combo (1..40) -> digit (1..10), thick, slant (1..2)
function C.split(combo)
  local k = combo - 1
  return k // 4 + 1, k % 4 // 2 + 1, k % 2 + 1
end

-- the caption of a combo in a variant 1..C.VARIANTS
function C.caption(combo, variant)
  local digit, thick, slant = C.split(combo)
  local k = variant - 1
  local t = THICK[thick][k % 3 + 1]; k = k // 3
  local s = SLANT[slant][k % 3 + 1]; k = k // 3
  local d = k % 2 == 0 and C.DIGITS[digit] or tostring(digit - 1); k = k // 2
  local tpl = TEMPLATES[k + 1]
  if k == 0 then return tpl:format(t, s, d) end
  if k == 1 then return tpl:format(t, d, s) end
  return tpl:format(d, t, s)
end

-- a caption's words -> their indices; an unknown word is an error
function C.tokens(s)
  local ids = {}
  for w in s:gmatch("%S+") do
    ids[#ids + 1] = INDEX[w] or error(("captions: unknown word '%s' in '%s'"):format(w, s), 2)
  end
  return ids
end

-- captions -> bags of words [n, #vocab]: each word's count over the caption's length
function C.bow(strings)
  local rows = {}
  for i, s in ipairs(strings) do
    local ids, row = C.tokens(s), {}
    for j = 1, #C.vocab do row[j] = 0 end
    for _, id in ipairs(ids) do row[id] = row[id] + 1 / #ids end
    rows[i] = row
  end
  return lg.tensor(rows)
end

return C
