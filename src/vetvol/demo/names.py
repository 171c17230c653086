"""Plausible Chinese names for the demo province, drawn from a seeded random generator.

Surnames are weighted by frequency (a blend of the national ranking and Guangdong's, where 陈, 李, 黄, 梁 and
林 lead, with the compound surnames common in the province: 欧阳, 司徒, 上官). Given names have one or two
characters (names are two or three characters long, four with a compound surname) and fit the person's
gender and generation: a man born in 1950 is more likely 建国 or 卫东, one born in 1998 子豪 or 俊杰.
"""

from __future__ import annotations

import bisect
import itertools
import random

# Surname and relative weight (per mille, roughly).
_SURNAMES = """
陈 70 李 55 黄 45 张 42 王 34 刘 32 梁 28 林 28 吴 20 杨 20 何 18 罗 17 郑 16 周 15 钟 14 谢 13 朱 12
邓 12 曾 11 许 10 蔡 10 冯 9 叶 9 赖 8 苏 8 徐 8 卢 8 彭 8 潘 7 赵 7 胡 7 孙 6 江 6 余 6 马 6 郭 6 温 6
邱 5 廖 5 方 5 严 5 丘 4 姚 4 杜 4 韩 4 高 4 萧 4 肖 4 关 4 莫 4 麦 4 欧 3 伍 3 邝 3 区 2 谭 4 袁 4 龙 3
唐 4 宋 3 程 3 魏 3 曹 3 沈 3 熊 3 田 3 石 3 汤 3 傅 3 贺 3 邹 3 姜 3 崔 2 范 3 易 2 于 2 董 3 汪 2
蒋 3 韦 3 古 2 巫 2 凌 2 岑 2 甘 2 容 2 翁 2 洪 3 庄 2 柯 2 詹 2 戴 2 夏 2 付 2 白 2 侯 2 邵 2 孟 2
欧阳 2 司徒 1 上官 1 诸葛 0.3
"""

# Given names of two characters, by gender and generation (born before 1960, 1960-1979, 1980 and later).
_GIVEN = {
    ("M", 0): "建国 卫东 国庆 建军 卫国 红兵 援朝 解放 志强 国华 振华 建华 德明 永康 福生 金华 国栋 少华 "
    "树林 长青 文华 向阳 跃进 爱民 胜利 庆丰 耀祖 伟民 光明 汉生 炳坤 锦荣 国强 振国 伯勤 德华 桂林 水生",
    ("M", 1): "志勇 建平 海峰 伟明 卫华 晓东 小军 永强 国伟 志刚 建伟 立新 少波 文斌 志华 振宇 向东 "
    "海涛 红军 建新 伟强 志明 锦辉 耀华 家明 汉文 俊峰 卫平 冬生 秋生 宏伟 德胜 建辉 国良 立军 永红",
    ("M", 2): "俊杰 子豪 浩然 家豪 志豪 宇航 文杰 思远 嘉俊 梓豪 俊宇 天宇 国栋 晓峰 振鹏 伟杰 卓然 "
    "泽宇 子轩 浩宇 博文 明轩 皓轩 俊熙 立诚 家乐 永健 健豪 嘉伟 志鹏 锦龙 宏杰 一鸣 晨阳 子健",
    ("F", 0): "秀英 桂英 玉兰 秀兰 淑珍 凤英 桂兰 美华 爱华 红梅 玉梅 丽华 惠芳 月娥 瑞芳 少芬 翠英",
    ("F", 1): "丽娟 红霞 晓燕 海燕 秀梅 丽萍 小红 建芳 美玲 慧敏 艳红 丽芳 少玲 雪梅 燕玲 玉珍 秋霞",
    ("F", 2): "婷婷 晓琳 嘉欣 梓琪 思敏 佳怡 雅婷 欣怡 颖琳 诗琪 晓彤 慧琳 子萱 可欣 雨涵 文静 梦婷",
}
# Single characters for one-character given names and for free combinations.
_CHARS = {
    "M": "伟 强 军 勇 斌 峰 刚 辉 海 林 平 东 波 杰 涛 鹏 忠 兵 武 文 民 荣 德 光 庆 新 金 成 俊 锋 "
    "超 亮 宇 洪 江 健 龙 飞 华 明 志 国 建 永 胜 彪 雄 坚 毅 磊 鑫 浩 豪 炜 锦 耀 鸿 达 坤 钊 昌",
    "F": "芳 娟 敏 静 丽 艳 霞 梅 红 燕 婷 雪 琳 颖 晶 慧 佳 欣 怡 玲 萍 倩 莉 洁 琴 云 兰 珍 凤 娜 "
    "薇 瑶 璐 嘉 秀 英 玉 翠 月 彩",
}


def _parse_surnames() -> tuple[list[str], list[float]]:
    tokens = _SURNAMES.split()
    names, weights = tokens[0::2], [float(w) for w in tokens[1::2]]
    return names, list(itertools.accumulate(weights))


SURNAMES, _SURNAME_CUM = _parse_surnames()
_GIVEN_LISTS = {key: text.split() for key, text in _GIVEN.items()}
_CHAR_LISTS = {key: text.split() for key, text in _CHARS.items()}


def _generation(birth_year: int) -> int:
    return 0 if birth_year < 1960 else 1 if birth_year < 1980 else 2


def surname(rng: random.Random) -> str:
    """A surname drawn by frequency."""
    return SURNAMES[bisect.bisect_right(_SURNAME_CUM, rng.random() * _SURNAME_CUM[-1])]


def person_name(rng: random.Random, gender: str, birth_year: int) -> str:
    """A full name fitting the gender ("M"/"F") and the generation of the birth year."""
    family = surname(rng)
    roll = rng.random()
    if roll < 0.15:  # one-character given name: 陈伟, 李芳
        return family + rng.choice(_CHAR_LISTS[gender])
    if roll < 0.65:  # a name typical of the generation
        return family + rng.choice(_GIVEN_LISTS[(gender, _generation(birth_year))])
    chars = _CHAR_LISTS[gender]
    first, second = rng.choice(chars), rng.choice(chars)
    if first == second and rng.random() < 0.7:  # doubled names (婷婷) are fine, but not that often
        second = rng.choice(chars)
    return family + first + second


ROADS = [
    "人民路",
    "中山路",
    "解放路",
    "建设路",
    "新华路",
    "东风路",
    "朝阳路",
    "环城路",
    "文明路",
    "光明路",
    "和平路",
    "胜利路",
    "友谊路",
    "青年路",
    "工业大道",
    "滨江路",
    "沿江路",
    "府前路",
    "学府路",
    "长安路",
    "迎宾大道",
    "振兴路",
    "幸福路",
    "南湖路",
    "北环路",
    "健康路",
    "荔枝路",
    "榕树街",
]


def address(rng: random.Random, region_name: str) -> str:
    """A street address inside the given street or town."""
    road = rng.choice(ROADS)
    if rng.random() < 0.75:
        return (
            f"{region_name}{road}{rng.randint(1, 399)}号{rng.randint(1, 30)}栋"
            f"{rng.randint(1, 33)}{rng.randint(1, 8):02d}房"
        )
    return f"{region_name}{road}{rng.randint(1, 199)}号"
