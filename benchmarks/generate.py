"""Labelled benchmark corpora of recycled Chinese speeches, with known ground truth.

Writes pages that look like scraped 范文 pages (several speeches per page, markers, snippets, site chrome,
wrapped lines, CRLF and GB18030 pages) plus ``truth.json`` saying where every speech is, which speeches form
a family of recycled copies, and which passages were copied from where, at character level.

Usage::

    python benchmarks/generate.py OUT_DIR --seed 1 --size 2MB     # about 2 MB of pages
    python benchmarks/generate.py OUT_DIR --seed 1 --families 30  # 30 families (+ stitched and unrelated)

    >>> from benchmarks.generate import generate_corpus, check_truth
    >>> truth = generate_corpus("out", seed=1, families=10)     # doctest: +SKIP
    >>> check_truth("out")                                       # doctest: +SKIP

Everything random comes from one ``random.Random(seed)`` and every iteration is over sorted or ordered
data, so a seed gives byte-identical output. Text comes from the government work reports in
``../shared/corpus/gov_reports`` (relative to the project root; reports from 1978 on, Wikisource licence
footer removed, paragraphs that repeat text of an earlier one dropped) when that folder exists, otherwise
from a built-in synthesiser of official-speech sentences (:class:`Synth`); the reports give about 4 MB of
pages, beyond that the remaining speeches are synthesised (``text_source: "gov_reports+builtin"``). Edits,
inserted paragraphs and added sentences are always synthesised.

What is generated
-----------------
* **source** speeches: a title and 5–15 paragraphs taken in order from one unused region of one report (or
  synthesised: opening, ``一、`` headings, bodies), with optional boilerplate (``同志们：``, a stock
  transition, a closing slogan, ``谢谢大家！``).
* **families**: a source and 1–5 recycled copies, each made from the source or an earlier copy by a random
  mix of edits: place-name swap (全县→全市, 我县→我市, 县委→市委 …, sometimes 全国→全市), year shift and
  date change (2023年→2024年, 1月24日→2月3日), placeholder swap (a number ↔ ``XX``/``xx``/``×××``), a
  sentence dropped or added in a paragraph, a paragraph dropped, paragraphs reordered, a new paragraph
  inserted, a new title, boilerplate changed; role **truncated** copies keep only the first 30–70 % of the
  text (cut at a paragraph or sentence end). Some copies are put on the same page as their source, always
  with a new title. With ``--large-families N``, N more families of 60–300 copies each (a template recycled
  hundreds of times), made after the others, so that the corpus without them does not change.
* **stitched** speeches: 1–3 consecutive paragraphs from each of 2–3 different sources plus new text;
  they share passages with those families but are not members (``family: null``).
* **unrelated** speeches: new text that shares only boilerplate with other speeches.
* pages of 1–8 speeches in varied forms: markers ``【篇N】`` (on the title line or its own line),
  ``【第N篇】``, ``第N篇：Title`` (Chinese numerals, title sometimes repeated on the next line), ``篇N：``,
  ``范文N``, ``Title篇一``, or no marker and a bare title (``…讲话``/``…讲话提纲``/``…发言``; markers are
  also lost at random on marked pages); an optional date line under the title; an optional web-snippet
  first line (``...``); optional header chrome (collection title, ``作者：… 来源：…``, URL, ``下载docx``,
  ``更新时间:…``, ``…欢迎品鉴！``) and footer (``推荐阅读:`` + titles, ``标签:``, ``相关文章``,
  ``猜你喜欢`` …); blank lines between paragraphs or not; ``　　``/``  `` indents and ``>　　`` before
  headings; paragraphs wrapped into lines of 20–120 characters broken mid-sentence (sometimes with a blank
  line inside the break); about 10 % CRLF pages and 6 % GB18030 pages.

Ground truth: ``OUT_DIR/truth.json``
------------------------------------
::

    {"seed": int, "text_source": "gov_reports" | "builtin" | "gov_reports+builtin",
     "files": [{"file": "site/0001_abcd1234.txt", "encoding": "utf-8" | "gb18030",
                "newline": "\\n" | "\\r\\n", "speeches": n}],
     "speeches": [{"id": "<file>#<k>", "file": str, "start_line": a, "end_line": b, "title": str,
                   "family": int | null, "role": "source" | "copy" | "truncated" | "stitched" | "unrelated",
                   "parent": id | null, "edits": [str]}],
     "families": [[id, ...], ...],
     "copies": [{"source": {"speech": id, "file": f, "start_char": s, "end_char": e},
                 "target": {"speech": id, "file": f, "start_char": s, "end_char": e},
                 "kind": "family" | "borrowed"}],
     "boilerplate": [{"file": f, "start_char": s, "end_char": e, "speech": id}]}

* ``file`` paths are relative to OUT_DIR with ``/``; ``k`` is the 1-based position of the speech in its file.
* ``start_line``/``end_line``: 1-based inclusive lines, from the marker (or bare title) line to the last line
  of text of the speech; lines are counted as an editor does (``\\n``, ``\\r\\n``, ``\\r``).
* character offsets index the decoded text of the file (``str`` offsets; ``\\r`` of CRLF pages counts),
  ``end_char`` exclusive. A passage starts at the first character of a paragraph (after its indent) and ends
  after the last character of a paragraph; line breaks and indents inside it are included.
* ``families[i]`` lists the members of family ``i`` (source first, then in order of creation).
* ``copies``: one entry per maximal run of consecutive paragraphs that two speeches share (same order in
  both), for every pair of speeches sharing non-boilerplate text: within families (``kind: "family"``), and
  between a stitched speech and any speech it shares text with — the sources it borrowed from, their
  copies, other stitched speeches (``"borrowed"``). ``source`` is the older
  speech of the pair (a family's source, or the copy made first). Edits inside a paragraph (place, year,
  placeholders, a sentence) do not break a run unless the two versions no longer share text (3-gram
  containment < 0.5 and no common stretch of ``MIN_COPY_CHARS`` characters, numbers and places folded); a
  dropped, inserted or moved paragraph does. Titles, markers and boilerplate are never part of a copy; runs
  shorter than ``MIN_COPY_CHARS`` non-space characters are left out.
* ``boilerplate``: every boilerplate paragraph (salutation, transition, slogan, thanks). Unrelated speeches
  share only these, apart from stock phrases shorter than ``REPORT_OVERLAP`` characters (report text) or
  short stock wording of the synthesiser's word lists (built-in text).
* ``edits`` names the edits that made the speech (``place:县→市``, ``year:+1``, ``date``,
  ``placeholder:xx``, ``drop_sentence``, ``add_sentence``, ``drop_paragraph``, ``insert_paragraph``,
  ``reorder``, ``new_title``, ``boilerplate``, ``truncate:0.45``, ``borrow:<id>``).

:func:`check_truth` re-reads the files and verifies all of this.
"""

from __future__ import annotations

import argparse
import bisect
import difflib
import json
import random
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
GOV_REPORTS_DIR = PROJECT_ROOT / ".." / "shared" / "corpus" / "gov_reports"
"""Where the government work reports are looked for; tests may point it elsewhere."""
TRUTH_NAME = "truth.json"
MIN_COPY_CHARS = 20
"""Shared runs shorter than this (non-space characters, on either side) are not listed as copies."""
FIRST_REPORT_YEAR = 1978
REPORT_OVERLAP = 20

# Place levels: 全县 / 我县 / 县委 / 县直 ... are swapped as a whole by the place-name edit.
LEVELS: tuple[str, ...] = ("县", "区", "市", "省", "镇")
# Grass-roots units below each level, used as the actors of sentences.
SUBUNITS: dict[str, tuple[str, ...]] = {
    "县": ("各乡镇", "县直各部门", "各村（社区）", "县直有关单位"),
    "区": ("各街道", "区直各部门", "各社区", "区直有关单位"),
    "市": ("各县（市、区）", "市直各部门", "各开发区", "市直有关单位"),
    "省": ("各市（州）", "省直各部门", "各县（市、区）", "省直有关单位"),
    "镇": ("各村", "镇直各站所", "各村民小组", "镇机关各办"),
}

# Topics of the synthesised speeches, each with nouns of its own.
TOPICS: dict[str, tuple[str, ...]] = {
    "安全生产": ("隐患排查", "危险化学品", "建筑施工", "重大危险源", "安全培训", "特种设备", "应急演练",
                 "企业主体责任", "执法检查", "安全风险分级管控", "有限空间作业", "事故查处"),
    "防汛抗旱": ("汛情监测", "水库安全度汛", "山洪灾害", "堤防巡查", "转移避险", "抢险物资", "防汛预案",
                 "河道清障", "城市内涝", "抗旱水源", "值班值守", "预警发布"),
    "森林防火": ("野外用火", "护林员队伍", "火情瞭望", "防火隔离带", "扑火队伍", "祭祀用火",
                 "林区巡护", "火源管控", "防火宣传", "扑火装备"),
    "乡村振兴": ("产业发展", "防止返贫监测", "农村人居环境", "村集体经济", "高标准农田", "特色种养",
                 "乡村治理", "驻村工作队", "农民增收", "农村改厕", "乡村建设", "脱贫人口就业"),
    "疫情防控": ("重点人群排查", "核酸检测", "疫苗接种", "发热门诊", "隔离场所", "流调溯源",
                 "健康监测", "冷链食品", "防控物资", "重点场所管控"),
    "优化营商环境": ("审批流程", "政务服务", "涉企收费", "惠企政策", "市场主体", "一网通办",
                     "诚信体系", "企业诉求", "要素保障", "帮办代办"),
    "招商引资": ("招商项目", "产业链招商", "签约项目", "项目落地", "外来投资", "园区承载能力",
                 "招商队伍", "重点客商", "项目储备", "投资环境"),
    "生态环境保护": ("大气污染防治", "水污染防治", "土壤污染", "环保督察整改", "秸秆禁烧",
                     "污水处理", "扬尘治理", "河湖生态", "固体废物", "排污许可"),
    "文明城市创建": ("市容环境", "背街小巷", "志愿服务", "交通秩序", "公益广告", "农贸市场",
                     "占道经营", "文明新风", "小区物业", "测评指标"),
    "基层党建": ("党支部标准化建设", "党员发展", "三会一课", "软弱涣散党组织", "党员教育管理",
                 "基层阵地", "组织生活", "村级后备力量", "党建责任", "书记抓党建"),
    "信访维稳": ("矛盾纠纷排查", "重复信访", "信访积案", "领导接访", "网格化管理", "不稳定因素",
                 "初信初访", "重点人员稳控", "法治宣传", "群众诉求"),
    "农村人居环境整治": ("垃圾清运", "生活污水", "村容村貌", "畜禽养殖污染", "厕所革命",
                         "庭院整治", "长效管护", "保洁队伍", "乱堆乱放", "美丽庭院"),
    "食品安全": ("校园食品", "农贸市场", "餐饮服务", "农药残留", "小作坊", "食品抽检",
                 "网络订餐", "冷链物流", "进口食品", "追溯体系"),
    "消防安全": ("高层建筑", "人员密集场所", "电动自行车", "消防通道", "九小场所", "火灾隐患",
                 "消防设施", "微型消防站", "用火用电", "消防宣传"),
    "道路交通安全": ("酒驾醉驾", "农村道路", "客运车辆", "校车安全", "货车超限超载",
                     "交通违法", "道路隐患", "两客一危", "电动车头盔", "交通秩序"),
    "耕地保护": ("耕地非农化", "永久基本农田", "土地卫片执法", "撂荒地", "违法占地", "补充耕地",
                 "粮食生产功能区", "田长制", "土地整治", "耕地质量"),
    "项目建设": ("重点项目", "项目前期工作", "征地拆迁", "建设进度", "专项债券", "项目调度",
                 "开工率", "要素保障", "竣工投产", "项目谋划"),
    "民生保障": ("就业帮扶", "低保救助", "养老服务", "义务教育", "医疗保障", "困难群众",
                 "保障性住房", "民生实事", "社会救助", "兜底保障"),
    "河湖长制": ("河湖巡查", "河道采砂", "入河排污口", "河湖四乱", "水质监测", "河长履职",
                 "岸线管理", "水生态修复", "联合执法", "河湖保洁"),
    "扫黑除恶": ("线索核查", "行业乱象", "涉黑涉恶", "打早打小", "群众举报", "长效常治",
                 "基层政权", "重点行业", "案件侦办", "宣传发动"),
}
# Topics of speeches whose text comes from government work reports.
REPORT_TOPICS: tuple[str, ...] = ("经济", "政府全体", "经济社会发展", "高质量发展", "重点项目推进",
                                  "政府务虚", "年度目标任务落实", "改革发展")

LEADERS: tuple[str, ...] = ("{L}委书记", "{L}长", "常务副{L}长", "分管副{L}长", "{L}委副书记")
MEETINGS: tuple[str, ...] = ("工作会议", "工作推进会", "工作部署会", "专题会议", "工作调度会", "工作动员会",
                             "工作现场会", "工作座谈会")
TITLE_FORMS: tuple[str, ...] = (
    "在{place}{year}年{topic}{meeting}上的讲话",
    "在{place}{topic}{meeting}上的讲话",
    "{place}{topic}{meeting}讲话提纲",
    "{topic}{meeting}领导讲话",
    "在{place}{topic}{meeting}上的发言",
    "{leader}在{place}{topic}{meeting}上的讲话",
    "{year}年{place}{topic}{meeting}讲话",
    "在{topic}{meeting}上的讲话稿",
    "在{place}{topic}{meeting}上的表态发言",
    "{year}年{topic}{meeting}讲话提纲",
)

ADVERBS: tuple[str, ...] = ("切实", "进一步", "持续", "全面", "扎实", "坚决", "认真", "主动", "不断",
                            "严格", "着力", "大力", "加快", "深入", "统筹", "精准", "依法", "从严", "及时",
                            "全力", "用心", "逐项", "集中", "高效", "稳步")
VERBS: tuple[str, ...] = ("加强", "落实", "完善", "推进", "健全", "抓好", "压实", "强化", "提升",
                          "排查", "整治", "优化", "规范", "夯实", "做实", "织密", "补齐", "盯紧", "筑牢",
                          "用好", "管好", "理顺", "抓实", "紧盯", "细化", "深化", "改进", "守牢", "核查",
                          "跟踪", "调度", "摸清")
GENERIC_OBJECTS: tuple[str, ...] = ("主体责任", "监管责任", "工作机制", "应急预案", "督导检查", "宣传引导",
                                    "考核评价", "队伍建设", "基础保障", "信息报送", "值班值守", "责任链条",
                                    "制度体系", "问题清单", "工作台账", "联动机制", "短板弱项", "工作力量",
                                    "指挥体系", "资金保障", "源头治理", "闭环管理", "数据底数", "风险研判",
                                    "整改台账", "网格管理", "部门协同", "物资储备", "政策宣讲", "群众动员")
RESULT_VERBS: tuple[str, ...] = ("确保", "确保", "力争", "务求", "保证")
RESULT_GOALS: tuple[str, ...] = ("各项工作落到实处", "不发生重大问题", "守住底线", "工作提质增效",
                                 "维护群众生命财产安全", "责任到岗到人", "形成齐抓共管格局", "早发现早处置",
                                 "群众满意", "以实际成效取信于民", "目标任务如期完成", "工作不断档",
                                 "形成长效机制", "把风险化解在萌芽状态", "全年工作开好局", "措施落地见效",
                                 "问题整改清零", "工作走在前列", "各环节无缝衔接", "底数清、情况明",
                                 "工作有序推进", "责任链条环环相扣", "一级抓一级", "隐患动态清零")
LEADS: tuple[str, ...] = ("", "", "", "", "当前，", "下一步，", "同时，", "总的来看，", "从近期情况看，",
                          "特别是，", "与此同时，", "对此，", "为此，", "在具体工作中，", "会后，", "今后一个时期，",
                          "从现在起，", "具体来说，", "在这个问题上，", "此外，")
STAT_VERBS: tuple[str, ...] = ("排查", "整改", "培训", "检查", "走访", "化解", "投入", "新建", "处置", "帮扶",
                               "督办", "摸排", "清理", "发放", "受理")
UNITS: tuple[str, ...] = ("处", "家", "人次", "万元", "个", "场次", "条", "户", "项", "公里", "件", "名")
PERIODS: tuple[str, ...] = ("今年以来", "过去一年", "上半年", "近年来", "一季度以来", "近期", "去年以来",
                            "前一阶段", "入冬以来", "三季度以来", "近三年来", "开春以来")
EVALUATIONS: tuple[str, ...] = ("取得了明显成效", "总体平稳有序", "稳中有进", "保持了良好态势",
                                "实现了预期目标", "打开了新局面", "得到了群众认可", "好于预期",
                                "走在了前列", "有了新的起色", "得到了上级肯定")
PROBLEMS: tuple[str, ...] = ("思想认识不到位", "主体责任落实不力", "基层力量薄弱", "排查不够深入细致",
                             "存在松劲心态", "推进不够平衡", "协调配合不够顺畅", "群众参与不够",
                             "资金投入不足", "监管手段单一", "问题反弹回潮", "基础设施欠账多",
                             "工作标准不高", "底数掌握不清", "整改不够彻底", "宣传覆盖面不广")
PROBLEM_SUBJECTS: tuple[str, ...] = ("一些单位", "个别地方", "部分企业", "少数干部", "有的村", "个别部门",
                                     "一些领域", "部分行业")
PROBLEM_HEADS: tuple[str, ...] = ("但也要清醒看到", "同时也要看到", "问题也不容忽视", "存在的不足主要是",
                                  "从督查情况看", "对照上级要求")
PROBLEM_TAILS: tuple[str, ...] = ("必须引起高度重视", "需要下大力气解决", "要在下一步工作中认真解决",
                                  "对此我们要有清醒认识", "必须拿出过硬措施", "要逐一列出清单")
PRINCIPLES: tuple[str, ...] = ("问题导向", "底线思维", "系统观念", "人民至上", "预防为主", "标本兼治",
                               "分类施策", "属地管理", "谁主管谁负责", "统筹兼顾", "源头治理", "综合施策",
                               "因地制宜", "依法依规")
NEGATIVES: tuple[str, ...] = ("工作不力", "推诿扯皮", "弄虚作假", "失职渎职", "敷衍塞责", "瞒报漏报",
                              "搞形式主义", "责任落实不到位", "擅离职守", "消极应付")
PUNISHMENTS: tuple[str, ...] = ("严肃追责问责", "一律通报批评", "依规依纪严肃处理", "约谈主要负责同志",
                                "在年度考核中一票否决", "责令限期整改", "挂牌督办", "列入重点督查")
PROOF_LEADS: tuple[str, ...] = ("实践证明", "经验表明", "事实证明", "从以往情况看", "大量事实说明")
LEADER_DUTY: tuple[str, ...] = ("主要负责同志要亲自抓", "一把手要带头抓", "主要领导要靠前指挥",
                                "党政主要负责人要亲自部署", "负责同志要盯在一线")
SUB_DUTY: tuple[str, ...] = ("分管负责同志要", "班子成员要", "具体经办人员要", "业务骨干要")
HEADING_GOALS: tuple[str, ...] = ("切实增强责任感紧迫感", "坚决守牢安全底线", "全力推动任务落地",
                                  "着力提升工作实效", "确保各项措施落实到位", "不断巩固良好态势",
                                  "推动工作再上新台阶", "凝聚攻坚克难合力", "筑牢基层基础",
                                  "以过硬作风保障工作落实", "确保取得实实在在的效果", "打好主动仗")
HEADING_HEADS: tuple[str, ...] = ("提高政治站位", "认清形势任务", "突出工作重点", "强化责任落实",
                                  "狠抓问题整改", "加强组织领导", "严格督导考核", "注重统筹兼顾",
                                  "坚持问题导向", "强化要素保障", "健全长效机制", "转变工作作风",
                                  "聚焦关键环节", "压紧压实责任", "抓住薄弱环节", "创新方式方法")
OPENING_INTROS: tuple[str, ...] = (
    "今天，我们召开{place}{topic}{meeting}，",
    "经{L}委研究，决定召开这次{meeting}，",
    "{L}委、{L}政府决定召开今天的{meeting}，",
    "今天召开的{topic}{meeting}，",
    "这次会议是在{season}召开的一次重要会议，",
    "我们在这里召开{topic}{meeting}，",
    "{period}，{place}上下围绕{topic}工作，{vp}，{vp2}，各项工作{evaluation}。召开这次会议，",
)
SEASONS: tuple[str, ...] = ("岁末年初", "汛期来临之际", "春耕备耕的关键时期", "全年工作冲刺阶段", "新春佳节前夕",
                            "秋冬换季之际", "上半年收官之际")
OPENING_PURPOSES: tuple[str, ...] = ("主要任务是", "目的是", "主要是", "重点是", "就是要", "核心是")
TASKS: tuple[str, ...] = ("总结前一阶段{topic}工作", "分析当前面临的形势", "安排部署下一阶段重点任务",
                          "动员{place}上下统一思想", "通报近期{noun}情况", "研究解决{noun}中的突出问题",
                          "推动{noun}各项措施落地见效", "进一步压实各方责任", "对{noun}再作动员",
                          "查找{noun}中的薄弱环节", "明确{noun}的时间表和路线图", "交流{noun}经验做法",
                          "听取各单位{noun}进展", "对{noun}工作再部署再落实")
EXTRAS: tuple[str, ...] = ("刚才，X同志通报了{noun}有关情况，{unit}作了发言，我都同意。",
                           "会前，我们围绕{noun}搞了专题调研，总的感觉是成绩值得肯定。",
                           "刚才，xx同志对{noun}工作作了具体安排，请大家抓好落实。",
                           "下面，我结合调研情况，就{noun}讲几点意见。",
                           "{unit}的发言各有特点，{noun}方面的做法值得借鉴。",
                           "XX同志的讲话我完全赞同，请{unit}认真抓好贯彻。",
                           "", "", "")

# Boilerplate shared by unrelated speeches: salutations, stock transitions and closing slogans.
SALUTATIONS: tuple[str, ...] = ("同志们：", "各位领导、同志们：", "同志们、朋友们：")
TRANSITIONS: tuple[str, ...] = ("下面，我讲几点意见。", "下面，我再强调几点。", "下面，我就做好下一步工作讲三点意见。")
SLOGANS: tuple[str, ...] = (
    "同志们，秋冬将至，任务依然繁重。大家务必绷紧思想之弦，以更加务实的作风、更加有力的举措，"
    "把各项工作抓实抓细抓到位，以优异成绩向全体群众交上一份满意答卷！",
    "同志们，时不我待，只争朝夕。让我们紧密团结在一起，坚定信心、真抓实干，为全面完成全年目标任务而努力奋斗！",
    "同志们，汛期已经来临，防汛形势不容乐观。大家要以对人民高度负责的态度，坚守岗位、恪尽职守，坚决打赢这场硬仗！",
    "同志们，新的一年已经开启，新的任务摆在面前。让我们撸起袖子加油干，以只争朝夕的精神奋力开创各项工作新局面！",
    "同志们，责任重于泰山，落实贵在行动。希望大家迅速行动起来，以钉钉子精神抓好各项工作落实，确保会议精神落地生根！",
    "同志们，春耕时节不等人，各项工作都要往前赶。请大家会后立即行动，层层传达、层层压实，确保各项任务按时序推进！",
    "同志们，岁末年初，各类风险交织叠加。我们要以更高的站位、更严的要求、更实的作风，"
    "守护好一方平安，让群众过一个欢乐祥和的节日！",
    "同志们，使命在肩，奋斗正当其时。让我们以此次会议为新的起点，勇于担当、善于作为，奋力谱写高质量发展新篇章！",
)
THANKS: tuple[str, ...] = ("谢谢大家！", "谢谢！", "我就讲这些，谢谢大家。")
BOILERPLATE: tuple[str, ...] = SALUTATIONS + TRANSITIONS + SLOGANS + THANKS
"""Every boilerplate paragraph the generator can write (``check_truth`` verifies spans against it)."""

# Page chrome (our own site names; example.* domains).
SITES: tuple[str, ...] = ("fanwen.example.com", "jianghua.example.org", "wenmi.example.net")
AUTHORS: tuple[str, ...] = ("小编", "admin", "笔杆子", "文秘小王", "网友投稿", "青柠")
COLLECTION_FORMS: tuple[str, ...] = ("{topic}会议领导讲话范文(通用{n}篇)", "最新{topic}工作会议上的讲话{n}篇",
                                     "关于{topic}工作的讲话稿【{cn}篇】", "{topic}工作部署会讲话(精选{n}篇)",
                                     "{year}年{topic}讲话材料范文{n}篇")
INTRO_FORMS: tuple[str, ...] = (
    "{topic}是一项长期而艰巨的任务。以下是为大家整理的关于{topic}工作会议讲话的文章{n}篇 ,欢迎品鉴！",
    "讲话稿是领导在会议上发表讲话的文稿。下面是小编为大家整理的{topic}讲话范文，欢迎阅读参考。",
    "以下是本站精心整理的{topic}工作讲话稿，仅供参考，欢迎借鉴。",
)
TAGS: tuple[str, ...] = ("讲话", "范文", "会议", "工作", "部署", "发言")

SENTENCE_ENDS = "。！？!?；"
_SENTENCE_RE = re.compile(r"[^。！？!?；]*[。！？!?；]+[”’」』）)]*|[^。！？!?；]+$")
_HEADING_RE = re.compile(r"^(?:[一二三四五六七八九十]{1,3}、|（[一二三四五六七八九十]{1,3}）)")
_NO_BREAK_AFTER = set("。！？!?；：:")
_CN_DIGITS = "零一二三四五六七八九"
_FOUR_CHAR = ("守土有责", "守土尽责", "令行禁止", "立说立行", "全程留痕", "应查尽查", "应改尽改", "不留死角",
              "不留盲区", "压茬推进", "闭环管理", "一抓到底")


def cn_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十 (1 ≤ n < 100)."""
    if n < 10:
        return _CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _CN_DIGITS[tens]) + "十" + ("" if ones == 0 else _CN_DIGITS[ones])


def split_sentences(text: str) -> list[str]:
    """Sentences with their end punctuation; ``"".join(split_sentences(t)) == t``."""
    return [s for s in _SENTENCE_RE.findall(text) if s]


def parse_size(text: str) -> int:
    """``"2MB"`` → 2_000_000 bytes; also ``KB``, ``MiB``, ``KiB``, ``GB`` and plain numbers."""
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([kKmMgG]?)(i?)[bB]?\s*", text)
    if not m:
        raise ValueError(f"not a size: {text!r} (try 2MB, 500KB or 100000)")
    base = 1024 if m.group(3) else 1000
    power = {"": 0, "k": 1, "m": 2, "g": 3}[m.group(2).lower()]
    return int(float(m.group(1)) * base**power)


# ----------------------------------------------------------------------------------------- data


@dataclass
class Para:
    """One paragraph of a speech. ``origin`` is shared by every version of the same base paragraph."""

    text: str
    origin: str | None  # None for boilerplate
    kind: str = "body"  # "body" | "heading" | "boiler"


@dataclass
class Draft:
    """A speech before it is put on a page."""

    birth: int
    title: str
    paras: list[Para]
    role: str
    family: int | None
    level: str
    topic: str
    year: int
    parent: Draft | None = None
    edits: list[str] = field(default_factory=list)

    def content(self) -> list[int]:
        return [i for i, p in enumerate(self.paras) if p.kind != "boiler"]


# ------------------------------------------------------------------------------- text sources


def load_reports(gov_dir: Path) -> list[list[tuple[str, str]]]:
    """Cached :func:`read_reports` (the folder is read-only; the result is never modified)."""
    key = Path(gov_dir).resolve()
    stamp = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(key.glob("*.txt")))
    if _REPORTS_CACHE.get(key, (None,))[0] != stamp:
        _REPORTS_CACHE[key] = (stamp, read_reports(key))
    return _REPORTS_CACHE[key][1]


_REPORTS_CACHE: dict[Path, tuple[tuple, list[list[tuple[str, str]]]]] = {}


def read_reports(gov_dir: Path) -> list[list[tuple[str, str]]]:
    """Paragraphs ``(text, kind)`` of each government work report from FIRST_REPORT_YEAR on.

    The Wikisource licence footer (from the line starting ``本作品`` on) is removed; the lines of a block
    (wiki links break lines) are joined; short fragments (``各位代表：``) are dropped, headings kept, long
    paragraphs cut at sentence ends into pieces of at most ~300 characters, and a paragraph that shares any
    ``REPORT_OVERLAP`` characters with a paragraph kept before is dropped: reports of different years repeat
    sentences (thanks to the nation, diplomacy, disaster relief...), and two regions must not share text.
    """
    seen: set[str] = set()
    reports = []
    for path in sorted(gov_dir.glob("*.txt")):
        m = re.match(r"(\d{4})年", path.name)
        if not m or int(m.group(1)) < FIRST_REPORT_YEAR:
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        cut = next((i for i, line in enumerate(lines) if line.strip().startswith("本作品")), len(lines))
        blocks: list[str] = []
        current: list[str] = []
        for line in lines[:cut] + [""]:
            s = re.sub(r"\s+", "", line)
            if s:
                current.append(s)
            elif current:
                blocks.append("".join(current))
                current = []
        paras: list[tuple[str, str]] = []
        for block in blocks:
            if _HEADING_RE.match(block) and len(block) <= 40 and "。" not in block:
                pieces = [(block, "heading")]
            elif len(block) < 25:
                continue
            else:
                pieces = [(t, "body") for t in _chunk(block, 300)]
            for text, kind in pieces:
                grams = {text[i : i + REPORT_OVERLAP] for i in range(len(text) - REPORT_OVERLAP + 1)} or {text}
                if seen.isdisjoint(grams):
                    seen |= grams
                    paras.append((text, kind))
        if len(paras) >= 20:
            reports.append(paras)
    return reports


def _chunk(text: str, limit: int) -> list[str]:
    if len(text) <= limit + 60:
        return [text]
    out: list[str] = []
    current = ""
    for sentence in split_sentences(text):
        if current and len(current) + len(sentence) > limit:
            out.append(current)
            current = ""
        current += sentence
    if current:
        if out and len(current) < 60:
            out[-1] += current
        else:
            out.append(current)
    return out


class ReportPool:
    """Hands out regions of consecutive report paragraphs, never the same paragraph twice."""

    def __init__(self, reports: list[list[tuple[str, str]]]) -> None:
        self.reports = reports
        self.used = [bytearray(len(r)) for r in reports]

    def take(self, rng: random.Random, n: int) -> list[tuple[str, str]] | None:
        for _ in range(60):
            r = rng.randrange(len(self.reports))
            paras = self.reports[r]
            if len(paras) < n + 1:
                continue
            start = rng.randrange(len(paras) - n + 1)
            if any(self.used[r][start : start + n]):
                continue
            picked = list(range(start, start + n))
            while picked and paras[picked[-1]][1] == "heading":
                picked.pop()
            if sum(1 for i in picked if paras[i][1] == "body") < min(n, 5):
                continue
            for i in range(start, start + n):
                self.used[r][i] = 1
            return [paras[i] for i in picked]
        return None


class Synth:
    """Plausible official-speech sentences, paragraphs and titles from the word lists above.

    Sentences are assembled from short slots (adverb + verb + object, actors, results, problems...), so
    fixed wording is short and two synthesised paragraphs rarely share more than a stock phrase. Every
    sentence written is new (a repeat is drawn again).
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seen: set[str] = set()

    def pick(self, seq: Sequence[str]) -> str:
        return self.rng.choice(seq)

    def number(self, placeholders: bool = True) -> str:
        rng = self.rng
        if placeholders and rng.random() < 0.2:
            return rng.choice(("XX", "xx", "×××"))
        return str(rng.choice((rng.randint(2, 99), rng.randint(100, 999), rng.randint(1000, 20000))))

    def noun(self, topic: str) -> str:
        return self.pick(TOPICS.get(topic, GENERIC_OBJECTS))

    def vp(self, topic: str) -> str:
        obj = self.noun(topic) if self.rng.random() < 0.55 else self.pick(GENERIC_OBJECTS)
        return self.pick(VERBS) + obj

    def avp(self, topic: str) -> str:
        return self.pick(ADVERBS) + self.vp(topic)

    def result(self) -> str:
        return self.pick(RESULT_VERBS) + self.pick(RESULT_GOALS)

    def actor(self, level: str) -> str:
        return self.pick(SUBUNITS[level] + ("各级各部门", "各级领导干部", "各行业主管部门", "牵头单位", "责任单位",
                                            "各工作专班", "相关职能部门"))

    def problem(self) -> str:
        return self.pick(PROBLEM_SUBJECTS) + self.pick(PROBLEMS)

    def _raw_sentence(self, topic: str, level: str) -> str:
        r, pick, avp = self.rng, self.pick, self.avp
        place = f"全{level}"
        form = r.randrange(12)
        if form == 0:
            clauses = "，".join(avp(topic) for _ in range(r.randint(1, 3)))
            return f"{pick(LEADS)}{self.actor(level)}要{clauses}，{self.result()}。"
        if form == 1:
            return (f"{pick(PERIODS)}，{place}{pick(STAT_VERBS)}{self.noun(topic)}{self.number()}{pick(UNITS)}，"
                    f"{pick(STAT_VERBS)}{self.noun(topic)}{self.number()}{pick(UNITS)}，"
                    f"{topic}工作{pick(EVALUATIONS)}。")
        if form == 2:
            return (f"{pick(PROBLEM_HEADS)}，{self.problem()}，{self.noun(topic)}方面{self.problem()}，"
                    f"{pick(PROBLEM_TAILS)}。")
        if form == 3:
            a, b = r.sample(PRINCIPLES, 2)
            return f"要坚持{a}、{b}，{avp(topic)}，{self.result()}。"
        if form == 4:
            where = pick(("突出位置", "重要位置", "首位"))
            return f"{self.actor(level)}要把{self.noun(topic)}摆在{where}，{avp(topic)}，防止{self.problem()}。"
        if form == 5:
            a, b = r.sample(NEGATIVES, 2)
            return f"对{self.noun(topic)}中{a}、{b}的，{pick(PUNISHMENTS)}。"
        if form == 6:
            return (f"截至{r.randint(1, 12)}月{r.randint(1, 28)}日，{place}已{pick(STAT_VERBS)}{self.noun(topic)}"
                    f"{self.number()}{pick(UNITS)}，{pick(('完成年度任务的', '占计划的', '同比增长'))}"
                    f"{r.randint(10, 99)}%。")
        if form == 7:
            return f"{self.actor(level)}{pick(LEADER_DUTY)}，{pick(SUB_DUTY)}{avp(topic)}，{self.result()}。"
        if form == 8:
            a, b = r.sample(_FOUR_CHAR, 2)
            return f"{pick(LEADS)}要{pick(ADVERBS)}{pick(VERBS)}{self.noun(topic)}和{self.noun(topic)}，做到{a}、{b}。"
        if form == 9:
            return f"{pick(PROOF_LEADS)}，只有{avp(topic)}，才能{pick(RESULT_GOALS)}。"
        if form == 10:
            return f"{place}{self.actor(level)}要{avp(topic)}，{avp(topic)}，{avp(topic)}。"
        into = pick(("年度考核", "督查重点", "绩效评价"))
        return (f"{pick(LEADS)}{level}{pick(('委', '政府'))}将把{self.noun(topic)}纳入{into}，"
                f"对{pick(NEGATIVES)}的{pick(PUNISHMENTS)}。")

    def sentence(self, topic: str, level: str) -> str:
        s = self._raw_sentence(topic, level)
        for _ in range(30):
            if s not in self.seen:
                break
            s = self._raw_sentence(topic, level)
        self.seen.add(s)
        return s

    def paragraph(self, topic: str, level: str, lo: int = 2, hi: int = 5) -> str:
        if self.rng.random() < 0.15:  # 一是…二是…三是…
            n = self.rng.randint(2, 4)
            return "".join(f"{cn_number(i + 1)}是{self.sentence(topic, level)}" for i in range(n))
        return "".join(self.sentence(topic, level) for _ in range(self.rng.randint(lo, hi)))

    def heading(self, number: int, topic: str) -> str:
        r = self.rng.random()
        if r < 0.4:
            tail = self.pick(HEADING_GOALS)
        elif r < 0.8:
            tail = self.avp(topic)
        else:
            return f"{cn_number(number)}、{self.avp(topic)}，{self.pick(HEADING_GOALS)}"
        return f"{cn_number(number)}、{self.pick(HEADING_HEADS)}，{tail}"

    def opening(self, topic: str, level: str) -> str:
        r, pick = self.rng, self.pick
        place, noun = f"全{level}", self.noun(topic)
        fill = {"place": place, "topic": topic, "noun": noun, "L": level}
        task1, task2 = (t.format(**fill) for t in r.sample(TASKS, 2))
        intro = pick(OPENING_INTROS).format(
            place=place, topic=topic, meeting=pick(MEETINGS), L=level, period=pick(PERIODS), season=pick(SEASONS),
            vp=self.vp(topic), vp2=self.vp(topic), evaluation=pick(EVALUATIONS),
        )
        extra = pick(EXTRAS).format(noun=self.noun(topic), unit=pick(SUBUNITS[level]))
        return f"{intro}{pick(OPENING_PURPOSES)}{task1}，{task2}。{extra}{self.sentence(topic, level)}"

    def title(self, topic: str, level: str, year: int, avoid: str | None = None) -> str:
        for _ in range(20):
            t = self.pick(TITLE_FORMS).format(
                place=f"全{level}", year=year, topic=topic, meeting=self.pick(MEETINGS),
                leader=self.pick(LEADERS).format(L=level),
            )
            if t != avoid:
                return t
        return t

    def body(self, n: int, topic: str, level: str) -> list[tuple[str, str]]:
        """``n`` paragraphs: an opening, then sections of a heading and 1+ bodies."""
        rng = self.rng
        out = [(self.opening(topic, level), "body")]
        rest = n - 1
        sections = rng.randint(2, max(2, min(5, rest // 2)))
        per = [1] * sections
        for _ in range(rest - 2 * sections):
            per[rng.randrange(sections)] += 1
        for s in range(sections):
            out.append((self.heading(s + 1, topic), "heading"))
            out.extend((self.paragraph(topic, level), "body") for _ in range(per[s]))
        return out


# ----------------------------------------------------------------------------------------- edits

_PLACE_RE = re.compile(
    r"(?<![安健完齐保周成顾])(全|我|本)(县|区|市|省|镇)(?!场)"
    r"|(?<![社地园景城山小辖片灾矿厂校街超都门])(县|区|市|省|镇)(委|政府|直|级|长|领导|指挥部)"
)
_NATION_RE = re.compile(r"(全|我)国(?!人民代表大会|务院)")
_YEAR_RE = re.compile(r"(?<![0-9])((?:19|20)[0-9]{2})(?=年)")
_DATE_RE = re.compile(r"(?<![0-9])([0-9]{1,2})月([0-9]{1,2})日")
_NUMBER_RE = re.compile(r"(?<![0-9.])[0-9]+(?:\.[0-9]+)?(?=[%％万亿个家人例处项条次元吨公里亩件名户场])")
_PLACEHOLDER_RE = re.compile(r"(?<![Xx×])(?:XX|xx|×××)(?![Xx×]|同志)")


def swap_place(text: str, new: str, nation: bool = False) -> str:
    def repl(m: re.Match[str]) -> str:
        return f"{m.group(1)}{new}" if m.group(1) else f"{new}{m.group(4)}"

    text = _PLACE_RE.sub(repl, text)
    return _NATION_RE.sub(lambda m: m.group(1) + new, text) if nation else text


def shift_years(text: str, delta: int) -> str:
    return _YEAR_RE.sub(lambda m: str(int(m.group(1)) + delta), text)


class Editor:
    """Makes recycled copies of drafts."""

    def __init__(self, rng: random.Random, synth: Synth) -> None:
        self.rng = rng
        self.synth = synth

    def _map_paras(self, draft: Draft, fn) -> bool:
        changed = False
        for p in draft.paras:
            if p.kind == "boiler":
                continue
            new = fn(p.text)
            changed |= new != p.text
            p.text = new
        return changed

    def place(self, d: Draft) -> None:
        new = self.rng.choice([lv for lv in LEVELS if lv != d.level])
        nation = self.rng.random() < 0.5
        self._map_paras(d, lambda t: swap_place(t, new, nation))
        d.title = swap_place(d.title, new)
        d.edits.append(f"place:{d.level}→{new}")
        d.level = new

    def year(self, d: Draft) -> None:
        rng = self.rng
        delta = rng.choice((-2, -1, 1, 1, 2, 3))
        dates: dict[str, str] = {}

        def new_date(m: re.Match[str]) -> str:
            if m.group(0) not in dates:
                dates[m.group(0)] = f"{rng.randint(1, 12)}月{rng.randint(1, 28)}日"
            return dates[m.group(0)]

        self._map_paras(d, lambda t: _DATE_RE.sub(new_date, shift_years(t, delta)))
        d.title = shift_years(d.title, delta)
        d.year += delta
        d.edits.append(f"year:{delta:+d}")
        if dates:
            d.edits.append("date")

    def placeholder(self, d: Draft) -> None:
        rng = self.rng
        style = rng.choice(("XX", "xx", "×××"))

        def fn(text: str) -> str:
            text = _PLACEHOLDER_RE.sub(lambda m: str(rng.randint(2, 300)) if rng.random() < 0.6 else m.group(0), text)
            return _NUMBER_RE.sub(lambda m: style if rng.random() < 0.6 else m.group(0), text)

        if self._map_paras(d, fn):
            d.edits.append(f"placeholder:{style}")

    def _bodies(self, d: Draft, min_sentences: int = 1) -> list[int]:
        return [i for i, p in enumerate(d.paras) if p.kind == "body" and len(split_sentences(p.text)) >= min_sentences]

    def drop_sentence(self, d: Draft) -> None:
        cands = self._bodies(d, 3)
        for i in self.rng.sample(cands, min(len(cands), self.rng.randint(1, 2))):
            sentences = split_sentences(d.paras[i].text)
            del sentences[self.rng.randrange(len(sentences))]
            d.paras[i].text = "".join(sentences)
            d.edits.append("drop_sentence")

    def add_sentence(self, d: Draft) -> None:
        cands = self._bodies(d, 2)
        if cands:
            i = self.rng.choice(cands)
            sentences = split_sentences(d.paras[i].text)
            sentences.insert(self.rng.randint(1, len(sentences)), self.synth.sentence(d.topic, d.level))
            d.paras[i].text = "".join(sentences)
            d.edits.append("add_sentence")

    def drop_paragraph(self, d: Draft) -> None:
        content = d.content()
        if len(content) > 4:
            i = self.rng.choice(content[1:])
            del d.paras[i]
            d.edits.append("drop_paragraph")

    def reorder(self, d: Draft) -> None:
        bodies = [i for i in self._bodies(d)]
        if len(bodies) >= 3:
            i, j = sorted(self.rng.sample(bodies[1:], 2))
            d.paras[i], d.paras[j] = d.paras[j], d.paras[i]
            d.edits.append("reorder")

    def insert_paragraph(self, d: Draft, origin: str) -> None:
        content = d.content()
        pos = self.rng.choice(content[1:] + [content[-1] + 1])
        d.paras.insert(pos, Para(self.synth.paragraph(d.topic, d.level), origin))
        d.edits.append("insert_paragraph")

    def new_title(self, d: Draft) -> None:
        d.title = self.synth.title(d.topic, d.level, d.year, avoid=d.title)
        d.edits.append("new_title")

    def boilerplate(self, d: Draft) -> None:
        for p in d.paras:
            if p.kind == "boiler" and p.text in SLOGANS:
                p.text = self.rng.choice([s for s in SLOGANS if s != p.text])
                d.edits.append("boilerplate")
                return
        if d.paras and d.paras[0].kind != "boiler":
            d.paras.insert(0, Para(self.rng.choice(SALUTATIONS), None, "boiler"))
            d.edits.append("boilerplate")

    def truncate(self, d: Draft) -> None:
        rng = self.rng
        frac = rng.uniform(0.3, 0.7)
        total = sum(len(p.text) for p in d.paras if p.kind != "boiler")
        target = frac * total
        acc = 0
        keep = len(d.paras)
        for i, p in enumerate(d.paras):
            if p.kind == "boiler":
                continue
            acc += len(p.text)
            if acc >= target:
                keep = i + 1
                sentences = split_sentences(p.text)
                if p.kind == "body" and len(sentences) >= 2 and rng.random() < 0.4:
                    over = acc - target
                    kept = list(sentences)
                    while len(kept) > 1 and over > 0:
                        over -= len(kept.pop())
                    p.text = "".join(kept)
                break
        bodies = [i for i, p in enumerate(d.paras) if p.kind == "body"]
        if bodies:
            keep = max(keep, bodies[min(1, len(bodies) - 1)] + 1)  # at least two paragraphs of text
        paras = d.paras[:keep]
        while paras and paras[-1].kind != "body":  # no trailing heading or boilerplate
            paras.pop()
        d.paras = paras
        d.edits.append(f"truncate:{frac:.2f}")


# ------------------------------------------------------------------------------------ corpus


LARGE_FAMILY = (60, 300)
"""Copies in each of the ``--large-families`` families."""


class _Builder:
    def __init__(self, seed: int, gov_dir: Path | None) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.synth = Synth(self.rng)
        self.editor = Editor(self.rng, self.synth)
        reports = load_reports(gov_dir) if gov_dir is not None and gov_dir.is_dir() else []
        self.pool = ReportPool(reports) if reports else None
        self.drafts: list[Draft] = []
        self.families: list[list[Draft]] = []
        self.sources: list[Draft] = []  # each family's source, kept as families come (not listed again per use)
        self.glue: list[tuple[Draft, Draft]] = []
        self.synthesised = 0  # speeches whose text had to be synthesised although reports were given
        self._origin = 0
        self._estimated = (0, 0)  # (drafts counted, bytes)

    # -- helpers
    def origin(self) -> str:
        self._origin += 1
        return f"p{self._origin}"

    def new_draft(self, role: str, family: int | None, force_boiler: bool = False) -> Draft:
        rng = self.rng
        level = rng.choice(LEVELS)
        year = rng.randint(2016, 2025)
        n = rng.randint(5, 15)
        region = self.pool.take(rng, n) if self.pool is not None else None
        if region is not None:
            topic = rng.choice(REPORT_TOPICS)
        else:
            self.synthesised += self.pool is not None  # the reports are used up
            topic = rng.choice(sorted(TOPICS))
            region = self.synth.body(n, topic, level)
        paras = []
        if force_boiler or rng.random() < 0.6:
            paras.append(Para(rng.choice(SALUTATIONS), None, "boiler"))
        if (force_boiler and rng.random() < 0.5) or rng.random() < 0.2:
            paras.append(Para(rng.choice(TRANSITIONS), None, "boiler"))
        paras.extend(Para(text, self.origin(), kind) for text, kind in region)
        if force_boiler or rng.random() < 0.5:
            paras.append(Para(rng.choice(SLOGANS), None, "boiler"))
        if (force_boiler and rng.random() < 0.7) or rng.random() < 0.3:
            paras.append(Para(rng.choice(THANKS), None, "boiler"))
        d = Draft(len(self.drafts), self.synth.title(topic, level, year), paras, role, family, level, topic, year)
        self.drafts.append(d)
        return d

    def copy_of(self, parent: Draft, family: int, truncated: bool, new_title: bool) -> Draft:
        rng, ed = self.rng, self.editor
        d = Draft(len(self.drafts), parent.title, [Para(p.text, p.origin, p.kind) for p in parent.paras],
                  "truncated" if truncated else "copy", family, parent.level, parent.topic, parent.year, parent)
        if rng.random() < 0.08:  # an exact copy, at most retitled
            pass
        else:
            if rng.random() < 0.6:
                ed.place(d)
            if rng.random() < 0.5:
                ed.year(d)
            if rng.random() < 0.4:
                ed.placeholder(d)
            if rng.random() < 0.4:
                ed.drop_sentence(d)
            if rng.random() < 0.3:
                ed.add_sentence(d)
            if rng.random() < 0.3:
                ed.drop_paragraph(d)
            if rng.random() < 0.2:
                ed.reorder(d)
            if rng.random() < 0.2:
                ed.insert_paragraph(d, self.origin())
            if rng.random() < 0.3:
                ed.boilerplate(d)
        if new_title or rng.random() < 0.4:
            ed.new_title(d)
        if truncated:
            ed.truncate(d)
        self.drafts.append(d)
        return d

    # -- speech kinds
    def family(self, copies: int | None = None) -> None:
        rng = self.rng
        f = len(self.families)
        source = self.new_draft("source", f)
        members = [source]
        n_copies = copies if copies is not None else rng.choices((1, 2, 3, 4, 5), weights=(30, 30, 20, 12, 8))[0]
        glue_at = rng.randrange(n_copies) if rng.random() < 0.25 else -1
        for c in range(n_copies):
            whole = [m for m in members if m.role != "truncated"]
            parent = source if c == glue_at or rng.random() < 0.7 else rng.choice(whole)
            copy = self.copy_of(parent, f, truncated=rng.random() < 0.2, new_title=c == glue_at)
            members.append(copy)
            if c == glue_at:
                self.glue.append((source, copy))
        self.families.append(members)
        self.sources.append(source)

    def stitched(self) -> None:
        rng = self.rng
        picked = rng.sample(self.sources, min(len(self.sources), rng.randint(2, 3)))
        level, year = rng.choice(LEVELS), rng.randint(2016, 2025)
        topic = picked[0].topic
        paras: list[Para] = []
        if rng.random() < 0.6:
            paras.append(Para(rng.choice(SALUTATIONS), None, "boiler"))
        paras.append(Para(self.synth.opening(topic, level), self.origin()))
        edits = []
        for src in picked:
            bodies = [i for i, p in enumerate(src.paras) if p.kind == "body"]
            k = min(len(bodies), rng.randint(1, 3))
            start = rng.randrange(len(bodies) - k + 1)
            first = bodies[start]
            run = [p for p in src.paras[first:] if p.kind != "boiler"][:k]
            for p in run:
                paras.append(Para(swap_place(p.text, level) if rng.random() < 0.5 else p.text, p.origin, p.kind))
            edits.append(src)
            for _ in range(rng.randint(1, 2)):
                paras.append(Para(self.synth.paragraph(topic, level), self.origin()))
        if rng.random() < 0.5:
            paras.append(Para(rng.choice(SLOGANS), None, "boiler"))
        d = Draft(len(self.drafts), self.synth.title(topic, level, year), paras, "stitched", None, level, topic, year)
        d.edits = [f"borrow:{s.birth}" for s in edits]  # rewritten with speech ids once pages exist
        self.drafts.append(d)

    def unrelated(self) -> None:
        self.new_draft("unrelated", None, force_boiler=True)

    def build(self, families: int | None, size: int | None, large_families: int = 0) -> None:
        rng = self.rng
        n_stitched = n_unrelated = 0
        while True:
            self.family()
            if len(self.families) >= 2 and rng.random() < 0.35:
                self.stitched()
                n_stitched += 1
            if rng.random() < 0.5:
                self.unrelated()
                n_unrelated += 1
            if families is not None and len(self.families) >= families:
                break
            if size is not None and self.estimate() >= size:
                break
        if n_stitched == 0 and len(self.families) >= 2:
            self.stitched()
        if n_unrelated == 0:
            self.unrelated()
        for _ in range(large_families):  # last, so that the rest is drawn as without them
            self.family(copies=rng.randint(*LARGE_FAMILY))

    def estimate(self) -> int:
        """Approximate size of the pages in bytes (drafts do not change once made)."""
        counted, total = self._estimated
        for d in self.drafts[counted:]:
            total += len(d.title.encode()) + sum(len(p.text.encode()) + 6 for p in d.paras) + 20
        self._estimated = (len(self.drafts), total)
        return total


# ------------------------------------------------------------------------------------- pages

MARKER_STYLES = ("bracket_pian", "bracket_di", "di_colon", "pian_colon", "fanwen", "suffix", "none")


@dataclass
class Style:
    marker: str
    marker_own_line: bool
    repeat_title: bool
    blank_between: bool
    indent: str
    quote_headings: bool
    wrap: tuple[int, int] | None
    blank_in_break: float
    newline: str
    encoding: str
    snippet: bool
    header: bool
    footer: bool
    final_newline: bool
    lost_marker: float
    date_line: float


@dataclass
class Placed:
    draft: Draft
    file: str
    k: int
    start_line: int
    end_line: int
    spans: list[tuple[int, int]]  # per paragraph, offsets in the final text

    @property
    def id(self) -> str:
        return f"{self.file}#{self.k}"


class _Writer:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0
        self.line = 1

    def emit(self, s: str) -> None:
        self.parts.append(s)
        self.pos += len(s)

    def newline(self) -> None:
        self.emit("\n")
        self.line += 1

    def line_out(self, s: str) -> None:
        self.emit(s)
        self.newline()

    def text(self) -> str:
        return "".join(self.parts)


class _Renderer:
    def __init__(self, rng: random.Random, synth: Synth) -> None:
        self.rng = rng
        self.synth = synth

    def style(self, n_speeches: int) -> Style:
        rng = self.rng
        marker = "none" if n_speeches == 1 and rng.random() < 0.6 else rng.choice(MARKER_STYLES)
        indent = rng.choice(("", "　　", "　　", "  "))
        wrap = None
        if rng.random() < 0.4:
            lo = rng.randint(20, 60)
            wrap = (lo, rng.randint(lo + 10, 120))
        return Style(
            marker=marker,
            marker_own_line=rng.random() < 0.3,
            repeat_title=rng.random() < 0.4,
            blank_between=rng.random() < 0.5,
            indent=indent,
            quote_headings=indent == "　　" and rng.random() < 0.3,
            wrap=wrap,
            blank_in_break=0.05 if rng.random() < 0.5 else 0.0,
            newline="\r\n" if rng.random() < 0.1 else "\n",
            encoding="gb18030" if rng.random() < 0.06 else "utf-8",
            snippet=rng.random() < 0.35,
            header=rng.random() < 0.5,
            footer=rng.random() < 0.4,
            final_newline=rng.random() < 0.85,
            lost_marker=0.15 if rng.random() < 0.3 else 0.0,
            date_line=0.15 if rng.random() < 0.3 else 0.0,
        )

    def marker_lines(self, st: Style, k: int, title: str) -> list[str]:
        rng, m = self.rng, st.marker
        if m != "none" and k > 1 and rng.random() < st.lost_marker:
            m = "none"
        if m == "bracket_pian":
            return [f"【篇{k}】", title] if st.marker_own_line else [f"【篇{k}】{title}"]
        if m == "bracket_di":
            return [f"【第{k}篇】", title] if st.marker_own_line else [f"【第{k}篇】{title}"]
        if m == "di_colon":
            head = f"第{cn_number(k)}篇：{title}"
            return [head, title] if st.repeat_title else [head]
        if m == "pian_colon":
            return [f"篇{k}：{title}"]
        if m == "fanwen":
            return [f"范文{k}", title] if st.marker_own_line else [f"范文{k}：{title}"]
        if m == "suffix":
            return [f"{title}篇{cn_number(k)}"]
        return [title]

    def wrap(self, text: str, lo: int, hi: int) -> list[str]:
        pieces = []
        i, n = 0, len(text)
        while n - i > hi:
            cut = i + self.rng.randint(lo, hi)
            while cut < n - 1 and text[cut - 1] in _NO_BREAK_AFTER:
                cut += 1
            cut = min(cut, n - 1)
            pieces.append(text[i:cut])
            i = cut
        pieces.append(text[i:])
        return pieces

    def header(self, st: Style, topic: str, n: int, site: str) -> list[str]:
        rng = self.rng
        lines = []
        year = rng.randint(2019, 2025)
        if rng.random() < 0.7:
            lines.append(rng.choice(COLLECTION_FORMS).format(topic=topic, n=n, cn=cn_number(n), year=year))
        if rng.random() < 0.5:
            lines.append(f"{rng.choice(('演讲稿', '讲话稿', '发言稿'))} 会员上传 下载docx")
        if rng.random() < 0.5:
            lines.append(f"更新时间:{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} "
                         f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d} "
                         "发布时间:24小时内")
        if rng.random() < 0.5:
            lines.append(f"作者：{rng.choice(AUTHORS)} 来源：网友投稿")
        if rng.random() < 0.4:
            url = f"https://{site}/fanwen/{rng.randint(10000, 999999)}.html"
            lines.append(rng.choice((f"本文原地址：<{url}>", url)))
        if rng.random() < 0.6 or not lines:
            lines.append(rng.choice(INTRO_FORMS).format(topic=topic, n=n))
        return lines

    def footer(self, topic: str, site: str) -> list[str]:
        rng = self.rng
        form = rng.randrange(3)
        if form == 1:
            return [f"更多 范文大全 请访问 <https://{site}/fanwen/>"]
        titles = []
        for _ in range(rng.randint(3, 6)):
            t = self.synth.title(rng.choice(sorted(TOPICS)), rng.choice(LEVELS), rng.randint(2019, 2025))
            if rng.random() < 0.5:
                t += rng.choice(("(通用3篇)", "(精选5篇)", "【三篇】", "范文(通用9篇)"))
            titles.append(t)
        if form == 2:
            return ["相关文章", *titles]
        return ["推荐阅读:", *titles, f"标签: {' '.join(rng.sample(TAGS, 2))}", "相关文章", "猜你喜欢",
                "大家正在看", "换一换"]

    def page(self, file: str, drafts: list[Draft], site: str) -> tuple[str, Style, list[Placed]]:
        rng = self.rng
        st = self.style(len(drafts))
        w = _Writer()
        sep = w.newline if st.blank_between else (lambda: None)
        topic = drafts[0].topic
        heads = [self.marker_lines(st, k, d.title) for k, d in enumerate(drafts, 1)]
        if st.snippet:
            first = drafts[0]
            text = "".join(heads[0][:1]) + first.title + "".join(p.text for p in first.paras[:3])
            cut = rng.randint(60, 110)
            w.line_out((" " if rng.random() < 0.5 else "") + text[:cut] + "...")
        elif rng.random() < 0.15:
            w.newline()
            w.newline()
        if st.header:
            for line in self.header(st, topic, len(drafts), site):
                w.line_out(line)
                sep()
        placed = []
        for k, (d, head) in enumerate(zip(drafts, heads), 1):
            if k > 1:
                sep()
            start_line = w.line
            for line in head:
                w.line_out(line)
            if rng.random() < st.date_line:
                w.line_out(f"{d.year}年{rng.randint(1, 12)}月")
            spans = []
            end_line = start_line
            for p in d.paras:
                sep()
                if st.quote_headings and p.kind == "heading":
                    w.emit(">　　")
                else:
                    w.emit(st.indent)
                start = w.pos
                pieces = self.wrap(p.text, *st.wrap) if st.wrap and p.kind != "heading" else [p.text]
                for i, piece in enumerate(pieces):
                    if i:
                        w.newline()
                        if rng.random() < st.blank_in_break:
                            w.newline()
                    w.emit(piece)
                spans.append((start, w.pos))
                end_line = w.line
                w.newline()
            placed.append(Placed(d, file, k, start_line, end_line, spans))
        if st.footer:
            sep()
            for line in self.footer(topic, site):
                w.line_out(line)
                sep()
        if rng.random() < 0.1:
            w.line_out(" ")
        text = w.text()
        if not st.final_newline:
            text = text.rstrip("\n")
        if st.newline == "\r\n":
            breaks = [i for i, ch in enumerate(text) if ch == "\n"]
            for pl in placed:
                pl.spans = [(s + bisect.bisect_left(breaks, s), e + bisect.bisect_left(breaks, e)) for s, e in pl.spans]
            text = text.replace("\n", "\r\n")
        return text, st, placed


def _pack(rng: random.Random, drafts: list[Draft], glue: list[tuple[Draft, Draft]]) -> list[list[Draft]]:
    """Speeches → pages of 1–8; glued pairs (a copy and its source) share a page."""
    partner = {c.birth: s.birth for s, c in glue}
    by_birth = {d.birth: d for d in drafts}
    # each source's glued copies, by birth, in one pass (a scan of all the pairs for each source took hours at 1 GB)
    copies_of: dict[int, list[Draft]] = {}
    for c, s in sorted(partner.items()):
        copies_of.setdefault(s, []).append(by_birth[c])
    units: list[list[Draft]] = []
    for d in drafts:
        if d.birth in partner:
            continue
        units.append([d, *copies_of.get(d.birth, [])])
    rng.shuffle(units)
    pages: list[list[Draft]] = []
    i = 0
    while i < len(units):
        cap = rng.choices(range(1, 9), weights=(8, 12, 14, 14, 12, 10, 8, 6))[0]
        page: list[Draft] = []
        while i < len(units) and (not page or len(page) + len(units[i]) <= cap):
            page.extend(units[i])
            i += 1
        rng.shuffle(page)
        pages.append(page)
    return pages


def _shares(a: str, b: str) -> bool:
    """Whether two versions of a paragraph still share text: edits can leave next to nothing in common."""
    a, b = _canon(a), _canon(b)
    if _containment(a, b) >= 0.5:
        return True
    return difflib.SequenceMatcher(None, a, b, autojunk=False).find_longest_match().size >= MIN_COPY_CHARS


def _runs(a: Placed, b: Placed) -> list[tuple[int, int, int, int]]:
    """Maximal runs ``(i0, i1, j0, j1)`` of shared paragraphs consecutive in both speeches.

    Paragraphs are shared when they come from the same base paragraph (boilerplate never is) and still
    share text (:func:`_shares`).
    """
    where = {p.origin: j for j, p in enumerate(b.draft.paras) if p.kind != "boiler"}
    runs: list[list[int]] = []
    for i, p in enumerate(a.draft.paras):
        j = where.get(p.origin) if p.kind != "boiler" else None
        if j is None or not _shares(p.text, b.draft.paras[j].text):
            continue
        if runs and runs[-1][1] == i - 1 and runs[-1][3] == j - 1:
            runs[-1][1], runs[-1][3] = i, j
        else:
            runs.append([i, i, j, j])
    return [tuple(r) for r in runs]  # type: ignore[misc]


def _nonspace(text: str) -> int:
    return len(re.sub(r"[\s\u3000>]", "", text))


def generate_corpus(
    out_dir: str | Path,
    seed: int = 1,
    *,
    families: int | None = None,
    size: int | str | None = None,
    gov_reports_dir: str | Path | None = None,
    use_gov_reports: bool = True,
    force: bool = False,
    large_families: int = 0,
) -> dict:
    """Write a labelled corpus into ``out_dir`` and return the truth (also written to ``truth.json``).

    Args:
        out_dir: Output folder; created if missing. It must be empty unless ``force``, which first removes
            the files listed by an earlier ``truth.json`` there (and nothing else).
        seed: Seed of the one ``random.Random`` everything is drawn from.
        families: Number of families to make (stitched and unrelated speeches are added in proportion).
        size: Approximate total size of the pages, in bytes or as ``"2MB"``/``"500KB"``; used when
            ``families`` is not given. With neither, 20 families are made.
        gov_reports_dir: Folder of government work reports; defaults to :data:`GOV_REPORTS_DIR`. When it
            does not exist (or ``use_gov_reports`` is false) all text is synthesised.
        large_families: Families of :data:`LARGE_FAMILY` copies made besides (after) the others.
    """
    out = Path(out_dir)
    if isinstance(size, str):
        size = parse_size(size)
    if families is None and size is None:
        families = 20
    if families is not None and families < 1:
        raise ValueError("families must be at least 1")
    if large_families < 0:
        raise ValueError(f"large_families must be 0 or more, got {large_families}")
    _prepare(out, force)
    gov = Path(gov_reports_dir) if gov_reports_dir is not None else GOV_REPORTS_DIR
    b = _Builder(seed, gov if use_gov_reports else None)
    b.build(families, size if families is None else None, large_families)
    rng = b.rng
    renderer = _Renderer(rng, b.synth)
    placed: list[Placed] = []
    files = []
    for n, page in enumerate(_pack(rng, b.drafts, b.glue), 1):
        site = rng.choice(SITES)
        file = f"{site}/{n:04d}_{rng.getrandbits(32):08x}.txt"
        text, st, on_page = renderer.page(file, page, site)
        path = out / file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode(st.encoding))
        placed.extend(on_page)
        files.append({"file": file, "encoding": st.encoding, "newline": st.newline, "speeches": len(on_page)})
    truth = _truth(seed, b, placed, files)
    (out / TRUTH_NAME).write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return truth


def _prepare(out: Path, force: bool) -> None:
    if out.exists() and any(out.iterdir()):
        old = out / TRUTH_NAME
        if not force:
            raise FileExistsError(f"{out} is not empty (use force=True / --force to replace an earlier corpus)")
        if old.is_file():
            listed = json.loads(old.read_text(encoding="utf-8")).get("files", [])
            for entry in listed:
                (out / entry["file"]).unlink(missing_ok=True)
            old.unlink()
            for d in sorted({(out / e["file"]).parent for e in listed}, reverse=True):
                if d.is_dir() and not any(d.iterdir()):
                    d.rmdir()
    out.mkdir(parents=True, exist_ok=True)


def _truth(seed: int, b: _Builder, placed: list[Placed], files: list[dict]) -> dict:
    by_birth = {p.draft.birth: p for p in placed}
    for pl in placed:  # name the borrowed-from speeches by id
        pl.draft.edits = [f"borrow:{by_birth[int(e.split(':')[1])].id}" if e.startswith("borrow:") else e
                          for e in pl.draft.edits]
    order = sorted(placed, key=lambda p: (p.file, p.k))
    speeches = [
        {"id": p.id, "file": p.file, "start_line": p.start_line, "end_line": p.end_line, "title": p.draft.title,
         "family": p.draft.family, "role": p.draft.role,
         "parent": by_birth[p.draft.parent.birth].id if p.draft.parent is not None else None,
         "edits": p.draft.edits}
        for p in order
    ]
    fams = [[by_birth[d.birth].id for d in members] for members in b.families]
    holders: dict[str, list[Placed]] = {}
    for p in sorted(placed, key=lambda p: p.draft.birth):
        for para in p.draft.paras:
            if para.kind != "boiler":
                holders.setdefault(para.origin, []).append(p)  # type: ignore[arg-type]
    pairs: dict[tuple[int, int], None] = {}
    for hs in holders.values():
        for i in range(len(hs)):
            for j in range(i + 1, len(hs)):
                pairs[(hs[i].draft.birth, hs[j].draft.birth)] = None
    copies = []
    for x, y in sorted(pairs):
        a, c = by_birth[x], by_birth[y]
        kind = "family" if a.draft.family is not None and a.draft.family == c.draft.family else "borrowed"
        for i0, i1, j0, j1 in _runs(a, c):
            src = (a.spans[i0][0], a.spans[i1][1])
            dst = (c.spans[j0][0], c.spans[j1][1])
            if min(_nonspace("".join(q.text for q in a.draft.paras[i0 : i1 + 1])),
                   _nonspace("".join(q.text for q in c.draft.paras[j0 : j1 + 1]))) < MIN_COPY_CHARS:
                continue
            copies.append({
                "source": {"speech": a.id, "file": a.file, "start_char": src[0], "end_char": src[1]},
                "target": {"speech": c.id, "file": c.file, "start_char": dst[0], "end_char": dst[1]},
                "kind": kind,
            })
    copies.sort(key=lambda c: (c["source"]["file"], c["source"]["start_char"], c["target"]["file"],
                               c["target"]["start_char"]))
    boiler = [
        {"file": p.file, "start_char": s, "end_char": e, "speech": p.id}
        for p in order
        for para, (s, e) in zip(p.draft.paras, p.spans)
        if para.kind == "boiler"
    ]
    source = "builtin" if b.pool is None else "gov_reports+builtin" if b.synthesised else "gov_reports"
    return {"seed": seed, "text_source": source, "files": files,
            "speeches": speeches, "families": fams, "copies": copies, "boilerplate": boiler}


# ------------------------------------------------------------------------------------- check


class TruthError(AssertionError):
    """The truth file does not match the pages."""


def _require(cond: bool, msg: str) -> None:
    if not cond:
        raise TruthError(msg)


def _norm(text: str) -> str:
    return re.sub(r"[\s\u3000>]", "", text)


def _canon(text: str) -> str:
    """Text with the generator's in-paragraph edits folded: numbers and placeholders → ``#``, place levels → ``L``."""
    text = _norm(text)
    text = re.sub(r"[0-9]+(?:\.[0-9]+)?|XX|xx|×××", "#", text)
    return re.sub(r"(?<=[全我本])国|[县区市省镇]", "L", text)


def _containment(a: str, b: str, n: int = 3) -> float:
    ga = {a[i : i + n] for i in range(len(a) - n + 1)}
    gb = {b[i : i + n] for i in range(len(b) - n + 1)}
    if not ga or not gb:
        return 1.0 if a == b else 0.0
    return len(ga & gb) / min(len(ga), len(gb))


def _line_starts(text: str) -> list[int]:
    starts = [0]
    for m in re.finditer(r"\r\n|\r|\n", text):
        starts.append(m.end())
    if len(starts) > 1 and starts[-1] == len(text):
        starts.pop()
    return starts


def check_truth(out_dir: str | Path, *, min_similarity: float = 0.4) -> dict:
    """Re-read a generated corpus and verify ``truth.json`` against the pages.

    Checks: every listed file exists, decodes with its encoding and uses its line ending, and no other
    page is there; speeches of a file are numbered 1..n in order, do not overlap, start at a line holding
    their title (or the marker line just above it), and end on a line of text followed only by blank lines
    before the next speech (or the footer / end of file); every copy and boilerplate span lies inside its
    speech, starts at the start of a paragraph and ends at a line end; the two sides of a copy are similar
    (character-3-gram containment ≥ ``min_similarity`` after removing white space and ``>`` and folding
    numbers, placeholders and place levels, or else a common substring of ``MIN_COPY_CHARS``: two copies
    edited apart may keep only a sentence); boilerplate
    spans hold a known boilerplate paragraph; families match the speeches' ``family`` fields, have one
    source each and are connected by copies; stitched speeches borrow from ≥ 2 speeches; unrelated speeches
    take part in no copy.

    Returns:
        Counts: ``files``, ``speeches``, ``families``, ``copies``, ``boilerplate``.

    Raises:
        TruthError: (an ``AssertionError``) naming the first mismatch.
    """
    out = Path(out_dir)
    truth = json.loads((out / TRUTH_NAME).read_text(encoding="utf-8"))
    texts: dict[str, str] = {}
    starts: dict[str, list[int]] = {}
    for entry in truth["files"]:
        data = (out / entry["file"]).read_bytes()
        text = data.decode(entry["encoding"])
        if entry["encoding"] != "utf-8":
            try:
                data.decode("utf-8")
                _require(False, f"{entry['file']}: {entry['encoding']} page also decodes as UTF-8")
            except UnicodeDecodeError:
                pass
        if entry["newline"] == "\r\n":
            _require("\n" not in text.replace("\r\n", ""), f"{entry['file']}: bare \\n in a CRLF page")
        else:
            _require("\r" not in text, f"{entry['file']}: \\r in an LF page")
        texts[entry["file"]] = text
        starts[entry["file"]] = _line_starts(text)
    on_disk = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.txt"))
    _require(on_disk == sorted(texts), f"pages on disk {len(on_disk)} ≠ listed {len(texts)}")

    def line(file: str, no: int) -> str:
        s = starts[file]
        end = s[no] if no < len(s) else len(texts[file])
        return texts[file][s[no - 1] : end].rstrip("\r\n")

    def line_of(file: str, offset: int) -> int:
        return bisect.bisect_right(starts[file], offset)

    speeches = {s["id"]: s for s in truth["speeches"]}
    _require(len(speeches) == len(truth["speeches"]), "duplicate speech ids")
    by_file: dict[str, list[dict]] = {}
    for s in truth["speeches"]:
        by_file.setdefault(s["file"], []).append(s)
    for file, items in by_file.items():
        _require(file in texts, f"{file}: not a listed file")
        n_lines = len(starts[file])
        for k, s in enumerate(items, 1):
            _require(s["id"] == f"{file}#{k}", f"{s['id']}: expected {file}#{k}")
            a, b = s["start_line"], s["end_line"]
            _require(1 <= a <= b <= n_lines, f"{s['id']}: bad line range {a}-{b}")
            head = _norm(line(file, a)) + (_norm(line(file, a + 1)) if a < n_lines else "")
            _require(_norm(s["title"]) in head, f"{s['id']}: title {s['title']!r} not at line {a}")
            _require(line(file, b).strip(" \u3000\t") != "", f"{s['id']}: end line {b} is blank")
            nxt = b + 1
            while nxt <= n_lines and line(file, nxt).strip(" \u3000\t") == "":
                nxt += 1
            if k < len(items):
                _require(nxt == items[k]["start_line"], f"{s['id']}: text after end line {b} (line {nxt})")
            elif nxt <= n_lines:
                rest = _norm(line(file, nxt))
                _require(rest.startswith(("推荐阅读", "相关文章", "更多")),
                         f"{s['id']}: line {nxt} after the last speech is not a footer: {rest[:30]!r}")

    def span(side: dict, what: str) -> str:
        s = speeches.get(side["speech"])
        _require(s is not None, f"{what}: unknown speech {side['speech']}")
        file, a, b = side["file"], side["start_char"], side["end_char"]
        _require(file == s["file"], f"{what}: file {file} is not the file of {s['id']}")
        text = texts[file]
        _require(0 <= a < b <= len(text), f"{what}: bad range {a}-{b}")
        _require(s["start_line"] <= line_of(file, a) and line_of(file, b - 1) <= s["end_line"],
                 f"{what}: {file}:{a}-{b} outside {s['id']}")
        _require(not text[a].isspace() and not text[b - 1].isspace(), f"{what}: span edge is white space")
        _require(a == 0 or text[a - 1] in "\r\n \u3000>", f"{what}: span does not start a paragraph")
        _require(b == len(text) or text[b] in "\r\n", f"{what}: span does not end at a line end")
        return text[a:b]

    partners: dict[str, set[str]] = {sid: set() for sid in speeches}
    for n, c in enumerate(truth["copies"]):
        what = f"copy {n} ({c['source']['speech']} → {c['target']['speech']})"
        src, dst = _canon(span(c["source"], what)), _canon(span(c["target"], what))
        _require(c["source"]["speech"] != c["target"]["speech"], f"{what}: a speech copied from itself")
        sim = _containment(src, dst)
        if sim < min_similarity:  # two copies edited apart may keep only a sentence in common
            common = difflib.SequenceMatcher(None, src, dst, autojunk=False).find_longest_match().size
            _require(common >= MIN_COPY_CHARS, f"{what}: sides are not similar ({sim:.2f}, {common} chars in common)")
        roles = {speeches[c["source"]["speech"]]["role"], speeches[c["target"]["speech"]]["role"]}
        _require("unrelated" not in roles, f"{what}: involves an unrelated speech")
        partners[c["source"]["speech"]].add(c["target"]["speech"])
        partners[c["target"]["speech"]].add(c["source"]["speech"])
    known = {_norm(t) for t in BOILERPLATE}
    for n, bp in enumerate(truth["boilerplate"]):
        text = span(bp, f"boilerplate {n}")
        _require(_norm(text) in known, f"boilerplate {n}: {text[:20]!r} is not boilerplate")
    roles = ("source", "copy", "truncated", "stitched", "unrelated")
    for s in truth["speeches"]:
        _require(s["role"] in roles, f"{s['id']}: bad role {s['role']}")
        in_family = s["role"] in ("source", "copy", "truncated")
        _require((s["family"] is not None) == in_family, f"{s['id']}: role {s['role']} with family {s['family']}")
        if s["role"] == "stitched":
            _require(len(partners[s["id"]]) >= 2, f"{s['id']}: stitched but borrows from < 2 speeches")
    of_family: dict[int, list[str]] = {}  # the speeches of each family, in one pass over them
    for s in truth["speeches"]:
        if s["family"] is not None:
            of_family.setdefault(s["family"], []).append(s["id"])
    _require(set(of_family) <= set(range(len(truth["families"]))), "a speech names a family that does not exist")
    for f, members in enumerate(truth["families"]):
        _require(sorted(members) == sorted(of_family.get(f, [])), f"family {f}: members do not match the speeches")
        _require([speeches[m]["role"] for m in members].count("source") == 1, f"family {f}: not one source")
        reached, todo = {members[0]}, [members[0]]
        while todo:
            for other in partners[todo.pop()]:
                if other in members and other not in reached:
                    reached.add(other)
                    todo.append(other)
        _require(len(reached) == len(members), f"family {f}: members not connected by copies")
    _require(all(s["family"] is None or s["family"] < len(truth["families"]) for s in truth["speeches"]),
             "family index out of range")
    return {"files": len(texts), "speeches": len(speeches), "families": len(truth["families"]),
            "copies": len(truth["copies"]), "boilerplate": len(truth["boilerplate"])}


# --------------------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate a labelled corpus of recycled Chinese speeches.")
    parser.add_argument("out_dir", help="output folder (must be empty unless --force)")
    parser.add_argument("--seed", type=int, default=1)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--size", help="approximate size of the pages, e.g. 2MB, 500KB")
    group.add_argument("--families", type=int, help="number of families")
    parser.add_argument("--gov-reports", help=f"folder of government work reports (default {GOV_REPORTS_DIR})")
    parser.add_argument("--no-gov-reports", action="store_true", help="synthesise all text")
    parser.add_argument("--large-families", type=int, default=0, metavar="N",
                        help="also make N families of {}-{} copies each".format(*LARGE_FAMILY))
    parser.add_argument("--force", action="store_true", help="replace a corpus generated there before")
    parser.add_argument("--no-check", action="store_true", help="skip check_truth after writing")
    args = parser.parse_args(argv)
    try:
        truth = generate_corpus(args.out_dir, args.seed, families=args.families, size=args.size,
                                gov_reports_dir=args.gov_reports, use_gov_reports=not args.no_gov_reports,
                                force=args.force, large_families=args.large_families)
    except (ValueError, FileExistsError) as exc:
        parser.error(str(exc))
    total = sum((Path(args.out_dir) / f["file"]).stat().st_size for f in truth["files"])
    print(f"wrote {len(truth['files'])} pages ({total:,} bytes), {len(truth['speeches'])} speeches, "
          f"{len(truth['families'])} families, {len(truth['copies'])} copies; text from {truth['text_source']}")
    if not args.no_check:
        check_truth(args.out_dir)
        print("check_truth: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
