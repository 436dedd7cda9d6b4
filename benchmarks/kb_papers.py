"""Paper-like documents for the knowledge-base benchmarks, made from a seed: the same seed gives the same papers.

A paper belongs to one of ten fields (its topics, methods, data, measures and phenomena) and borrows a few
words of a second one. It has a title, an abstract, numbered sections (introduction, related work with author-year
citations, method with sub-sections, experiments with a results table, discussion, conclusion) and a
bibliography, about `words` words before the bibliography. Sentences come from some sixty templates filled
with the field's words and fresh numbers: in 100 papers 22,000 of 35,600 sentences are distinct and no body
paragraph recurs (only the results tables' captions do). kb_indexing.py writes them as PDFs
(kb_corpus.write_pdf: about 8 pages for 4,000 words); kb_stores.py uses their chunks' text.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from kb_corpus import Element

# fmt: off
FIELDS = {
    "natural language processing": {
        "topics": ["machine translation", "question answering", "summarisation of long documents", "named entity recognition",
                   "dialogue state tracking", "citation intent classification", "cross-lingual retrieval", "sentiment analysis of reviews"],
        "methods": ["transformer encoders", "retrieval-augmented generation", "contrastive sentence embeddings", "sequence-to-sequence models",
                    "prompt tuning", "knowledge distillation", "byte-pair tokenisation", "conditional random fields"],
        "data": ["parallel corpora", "annotated news articles", "scientific abstracts", "clinical notes", "user reviews", "parliamentary transcripts"],
        "measures": ["BLEU", "exact match", "macro F1", "ROUGE-L", "perplexity", "mean reciprocal rank"],
        "things": ["tokens", "sentences", "documents", "annotators", "queries", "passages"],
        "phenomena": ["hallucination", "domain shift", "label noise", "long-range dependencies", "lexical ambiguity", "code-switching"],
    },
    "computer vision": {
        "topics": ["semantic segmentation", "object detection in aerial images", "depth estimation", "video action recognition",
                   "medical image registration", "few-shot classification", "pose estimation", "image captioning"],
        "methods": ["convolutional backbones", "vision transformers", "diffusion models", "self-supervised pre-training",
                    "feature pyramid networks", "optical flow estimation", "test-time augmentation", "masked autoencoders"],
        "data": ["satellite tiles", "histology slides", "street-level photographs", "video clips", "synthetic renderings", "MRI volumes"],
        "measures": ["mean average precision", "intersection over union", "top-1 accuracy", "Dice coefficient", "PSNR", "FID"],
        "things": ["images", "pixels", "frames", "bounding boxes", "patches", "annotations"],
        "phenomena": ["occlusion", "motion blur", "class imbalance", "texture bias", "illumination changes", "adversarial perturbations"],
    },
    "ecology": {
        "topics": ["pollinator decline", "forest carbon uptake", "invasive species spread", "coral reef bleaching",
                   "bird migration timing", "soil microbial diversity", "freshwater eutrophication", "predator-prey cycles"],
        "methods": ["occupancy models", "species distribution models", "mark-recapture studies", "eddy covariance measurements",
                    "environmental DNA sampling", "structural equation models", "remote sensing indices", "generalised additive models"],
        "data": ["field transects", "camera-trap records", "herbarium specimens", "citizen-science observations", "sediment cores", "plot censuses"],
        "measures": ["species richness", "Shannon diversity", "net primary productivity", "detection probability", "biomass", "turnover rate"],
        "things": ["sites", "quadrats", "individuals", "species", "samples", "survey years"],
        "phenomena": ["habitat fragmentation", "drought stress", "phenological mismatch", "nitrogen deposition", "edge effects", "trophic cascades"],
    },
    "materials science": {
        "topics": ["solid-state electrolytes", "perovskite solar cells", "high-entropy alloys", "polymer membranes",
                   "thermal barrier coatings", "two-dimensional semiconductors", "battery cathode degradation", "corrosion of steels"],
        "methods": ["density functional theory", "molecular dynamics", "X-ray diffraction", "transmission electron microscopy",
                    "high-throughput screening", "phase-field modelling", "impedance spectroscopy", "Bayesian optimisation"],
        "data": ["crystal structures", "thin-film samples", "simulation trajectories", "diffraction patterns", "cycling curves", "micrographs"],
        "measures": ["ionic conductivity", "power conversion efficiency", "yield strength", "band gap", "capacity retention", "activation energy"],
        "things": ["samples", "compositions", "grains", "defects", "cycles", "unit cells"],
        "phenomena": ["dendrite growth", "grain-boundary diffusion", "phase segregation", "lattice strain", "interfacial resistance", "creep"],
    },
    "epidemiology": {
        "topics": ["influenza transmission", "vaccine effectiveness", "antimicrobial resistance", "air pollution and asthma",
                   "tuberculosis screening", "dengue outbreaks", "maternal health outcomes", "long-term effects of infection"],
        "methods": ["cohort studies", "case-control designs", "compartmental models", "instrumental variable analysis",
                    "Bayesian hierarchical models", "propensity score matching", "time-series regression", "contact tracing data"],
        "data": ["hospital records", "registry data", "household surveys", "sentinel surveillance reports", "mobility traces", "serological samples"],
        "measures": ["odds ratio", "hazard ratio", "basic reproduction number", "incidence rate", "sensitivity", "number needed to treat"],
        "things": ["patients", "households", "cases", "districts", "participants", "person-years"],
        "phenomena": ["confounding", "selection bias", "under-reporting", "seasonality", "waning immunity", "loss to follow-up"],
    },
    "economics": {
        "topics": ["minimum wage effects", "housing affordability", "trade liberalisation", "monetary policy transmission",
                   "microfinance in rural areas", "labour market matching", "carbon pricing", "household savings behaviour"],
        "methods": ["difference-in-differences", "regression discontinuity", "structural estimation", "vector autoregressions",
                    "randomised field experiments", "synthetic control methods", "panel fixed effects", "agent-based simulation"],
        "data": ["administrative tax records", "firm-level panels", "household expenditure surveys", "scanner data", "customs declarations", "central bank series"],
        "measures": ["elasticity", "average treatment effect", "welfare loss", "Gini coefficient", "output gap", "marginal propensity to consume"],
        "things": ["firms", "households", "regions", "quarters", "workers", "transactions"],
        "phenomena": ["price stickiness", "moral hazard", "spillover effects", "credit constraints", "sorting", "anticipation effects"],
    },
    "astrophysics": {
        "topics": ["exoplanet atmospheres", "galaxy cluster mass estimation", "gravitational-wave sources", "stellar rotation",
                   "fast radio bursts", "dark matter halos", "supernova light curves", "protoplanetary discs"],
        "methods": ["transit spectroscopy", "N-body simulations", "Markov chain Monte Carlo", "weak lensing analysis",
                    "radiative transfer models", "matched filtering", "photometric redshift estimation", "asteroseismology"],
        "data": ["survey catalogues", "spectra", "light curves", "interferometric visibilities", "simulation snapshots", "radio time series"],
        "measures": ["signal-to-noise ratio", "chi-squared", "posterior width", "completeness", "false alarm probability", "redshift error"],
        "things": ["stars", "galaxies", "observations", "epochs", "pixels", "events"],
        "phenomena": ["stellar activity", "dust extinction", "instrumental systematics", "cosmic variance", "tidal interactions", "scintillation"],
    },
    "robotics": {
        "topics": ["legged locomotion", "grasp planning", "multi-robot coordination", "visual odometry",
                   "human-robot handover", "autonomous driving in rain", "soft actuator control", "warehouse picking"],
        "methods": ["model predictive control", "reinforcement learning", "imitation learning", "factor-graph SLAM",
                    "sampling-based motion planning", "domain randomisation", "Kalman filtering", "impedance control"],
        "data": ["teleoperation demonstrations", "lidar scans", "force-torque recordings", "simulated rollouts", "motion-capture trajectories", "camera streams"],
        "measures": ["success rate", "tracking error", "cycle time", "collision rate", "energy per metre", "localisation drift"],
        "things": ["trials", "episodes", "waypoints", "objects", "robots", "joints"],
        "phenomena": ["sim-to-real gap", "actuator saturation", "sensor latency", "slippage", "partial observability", "contact uncertainty"],
    },
    "genomics": {
        "topics": ["single-cell transcriptomics", "genome-wide association", "gene regulatory networks", "CRISPR screen analysis",
                   "structural variant calling", "microbiome profiling", "epigenetic ageing clocks", "protein function prediction"],
        "methods": ["variational autoencoders", "linear mixed models", "hidden Markov models", "graph neural networks",
                    "long-read sequencing", "differential expression testing", "phylogenetic inference", "motif discovery"],
        "data": ["RNA-seq libraries", "whole-genome sequences", "methylation arrays", "cell atlases", "metagenomic reads", "knockout screens"],
        "measures": ["area under the ROC curve", "false discovery rate", "heritability", "adjusted Rand index", "precision at 100", "effect size"],
        "things": ["cells", "genes", "variants", "reads", "donors", "loci"],
        "phenomena": ["batch effects", "population stratification", "dropout", "linkage disequilibrium", "copy-number changes", "pleiotropy"],
    },
    "climate science": {
        "topics": ["regional precipitation extremes", "sea-level rise projections", "monsoon variability", "Arctic sea ice loss",
                   "urban heat islands", "aerosol-cloud interactions", "permafrost thaw", "ocean heat content"],
        "methods": ["statistical downscaling", "ensemble simulations", "data assimilation", "extreme value analysis",
                    "emulators of climate models", "detection and attribution", "reanalysis comparison", "convolutional downscaling"],
        "data": ["station records", "reanalysis fields", "satellite altimetry", "model ensembles", "Argo float profiles", "ice cores"],
        "measures": ["root mean square error", "return period", "continuous ranked probability score", "trend per decade", "bias", "anomaly correlation"],
        "things": ["grid cells", "stations", "ensemble members", "years", "seasons", "basins"],
        "phenomena": ["internal variability", "feedback loops", "model drift", "teleconnections", "tipping points", "land-use change"],
    },
}
SURNAMES = ["Smith", "Chen", "Okafor", "Müller", "Rossi", "Tanaka", "Kowalski", "Haddad", "Silva", "Nguyen", "Ivanova", "Johansson",
            "Garcia", "Kim", "Patel", "Dubois", "Novak", "Ahmed", "Costa", "Larsen", "Wang", "Moreau", "Fischer", "Singh", "Li", "Brown"]
VENUES = ["Proceedings of the Annual Conference", "Journal of Applied Studies", "Transactions on Data and Methods", "Letters in Quantitative Research",
          "International Workshop on Reproducibility", "Review of Empirical Science"]
# fmt: on
ADJECTIVES = [
    "robust",
    "scalable",
    "interpretable",
    "efficient",
    "simple",
    "principled",
    "adaptive",
    "hierarchical",
    "sparse",
    "calibrated",
]
HEDGES = [
    "In our experience,",
    "Perhaps surprisingly,",
    "As expected,",
    "Importantly,",
    "On closer inspection,",
    "In practice,",
    "Taken together,",
    "Notably,",
]

TEMPLATES = {
    "abstract": [
        "We study {topic} using {method} and {method2}.",
        "Existing approaches to {topic} struggle with {phenomenon}, which limits their use on {data}.",
        "We introduce a {adj} approach that combines {method} with a correction for {phenomenon}.",
        "On {n} {things} drawn from {data}, it improves {measure} from {x} to {y}.",
        "We release our code and the processed {data} so that others can reproduce every figure.",
        "Our analysis also shows when the approach fails: under strong {phenomenon2} the gains vanish.",
    ],
    "intro": [
        "{topic_cap} has attracted steady attention because small errors there propagate into every later analysis.",
        "Most work on {topic} relies on {method}, an assumption that rarely holds once {phenomenon} is present.",
        "{hedge} the practical bottleneck is not the model but the quality of the {data}.",
        "A typical study collects between {n} and {m} {things}, which is too few to estimate rare effects reliably.",
        "Previous attempts to address {phenomenon} either discarded difficult {things} or reweighted them by hand.",
        "This paper asks a narrower question: how much of the reported progress in {topic} survives a careful re-evaluation?",
        "We make three contributions. First, we formalise {phenomenon} as a measurable quantity.",
        "Second, we propose a {adj} estimator built on {method2} that needs no extra labels.",
        "Third, we evaluate it on {k} settings and report {measure} with confidence intervals rather than single numbers.",
        "The rest of the paper is organised as follows: Section 2 reviews related work, Section 3 describes the method, and Section 4 reports experiments.",
        "Readers from {field2} will recognise the problem, since {phenomenon_b} plays a similar role there.",
        "Our starting point is the observation that {phenomenon} and {phenomenon2} are rarely measured together.",
    ],
    "related": [
        "{cite} first applied {method} to {topic} and reported a {measure} of {x}.",
        "Later, {cite} showed that these results depend strongly on how the {data} were split.",
        "A parallel line of work uses {method2}; see {cite} for a survey covering {n} studies.",
        "{cite} and {cite2} both report that {phenomenon} reduces {measure} by roughly {p} percent.",
        "Closest to our work is {cite}, who also combine {method} with {method2}, but assume {phenomenon2} is absent.",
        "Methods from {field2}, in particular {method_b}, have been borrowed with mixed success {cite_paren}.",
        "Benchmarks for {topic} remain small; the largest public collection holds about {m} {things} {cite_paren}.",
        "Critiques of evaluation practice {cite_paren} argue that {measure} alone hides failures on rare {things}.",
    ],
    "method": [
        "Let x denote a {thing} and y its label; we model p(y | x) with {method}.",
        "The loss combines a data term and a penalty for {phenomenon}, weighted by a coefficient lambda = {w}.",
        "We estimate the penalty on held-out {things}, which avoids the optimistic bias of in-sample estimates.",
        "Each {thing} is represented by a vector of {d} features derived from the {data}.",
        "To handle {phenomenon2}, we stratify {things} into {k} groups and fit a separate scale per group.",
        "{hedge} the estimator reduces to ordinary {method2} when the penalty is zero.",
        "Training uses mini-batches of {b} {things} and stops when {measure} on the validation split stops improving for {e} epochs.",
        "Hyperparameters were chosen on a separate development set of {n} {things} and then frozen.",
        "Algorithm 1 summarises the procedure; its cost grows linearly with the number of {things}.",
        "We also consider a {adj} variant that replaces {method} with {method_b}, borrowed from {field2}.",
        "Missing values in the {data} are imputed with the median of the same stratum, and flagged by an indicator.",
        "Uncertainty is quantified by a bootstrap over {things} with {r} resamples.",
    ],
    "experiments": [
        "We evaluate on {k} datasets built from {data}, totalling {n} {things}.",
        "The baselines are {method}, {method2} and a {adj} variant of our approach without the {phenomenon} penalty.",
        "All runs use {s} random seeds; we report the mean and the standard deviation across seeds.",
        "Table 1 lists {measure} for every method and setting.",
        "Our method reaches {y} against {x} for the strongest baseline, a difference of {diff} points.",
        "The gain is largest on {things} affected by {phenomenon}, where {measure} rises from {x2} to {y2}.",
        "On the cleanest subset the methods are indistinguishable, which matches the analysis of Section 3.",
        "Removing the stratification costs {diff2} points of {measure}, making it the most important component.",
        "Training takes about {hours} hours on a single machine, and inference on {n} {things} takes {mins} minutes.",
        "A sensitivity analysis over lambda between {w} and {w2} changes {measure} by less than {diff2} points.",
        "When we corrupt {p} percent of the {data} deliberately, all methods degrade, ours the least.",
        "Error analysis of {e} randomly drawn failures shows that most involve {phenomenon2}.",
    ],
    "discussion": [
        "Our results suggest that {phenomenon} explains a large share of the variation reported for {topic}.",
        "{hedge} the approach depends on the quality of the {data}; with fewer than {m2} {things} the estimates become unstable.",
        "We did not study {phenomenon_b}, which practitioners in {field2} consider central.",
        "A limitation is that {measure} may not reflect what users of {topic} systems care about.",
        "The stratification assumes the groups are known in advance, which is not always realistic.",
        "Future work could combine our penalty with {method_b} or extend it to streaming {data}.",
        "Finally, the computational cost is modest, so the method can be rerun whenever new {things} arrive.",
    ],
    "conclusion": [
        "We presented a {adj} approach to {topic} that accounts for {phenomenon}.",
        "Across {k} settings it improves {measure} and, more importantly, makes failures visible.",
        "We hope the released {data} and code make future comparisons on {topic} more reliable.",
    ],
}
SECTIONS = [  # (heading, template group, share of the words)
    ("Abstract", "abstract", 0.05),
    ("1. Introduction", "intro", 0.15),
    ("2. Related Work", "related", 0.13),
    ("3. Method", "method", 0.12),
    ("3.1 Model", "method", 0.06),
    ("3.2 Estimation", "method", 0.06),
    ("4. Experiments", "experiments", 0.08),
    ("4.1 Setup", "experiments", 0.08),
    ("4.2 Results", "experiments", 0.12),
    ("5. Discussion", "discussion", 0.10),
    ("6. Conclusion", "conclusion", 0.05),
]


@dataclass(frozen=True)
class Paper:
    title: str
    field: str
    elements: list[Element]

    @property
    def words(self) -> int:
        words = 0
        for kind, text in self.elements:
            if kind == "h1" and text == "References":
                break
            words += len(text.split()) if kind in ("p", "pre") else 0
        return words

    def blocks(self):
        """The paper as knowledge.readers blocks (no PDF between): for chunking without rendering."""
        from knowledge.readers import Block

        blocks, section = [], None
        for kind, text in self.elements:
            if kind == "h1" and text == "References":
                break
            if kind in ("title", "h1", "h2"):
                section = text
                blocks.append(Block(text, None, section, heading=True))
            else:
                blocks.append(Block(text, None, section))
        return blocks


class _Filler(dict):
    """The slot values of one sentence: fresh numbers and words each time a template is filled."""

    def __init__(self, rng: random.Random, field: dict, other: dict, field2: str, citations: list[str]) -> None:
        super().__init__()
        self.rng, self.field, self.other, self.field2, self.citations = rng, field, other, field2, citations

    def __missing__(self, key: str) -> str:
        rng, f = self.rng, self.field
        one = {
            "topic": lambda: rng.choice(f["topics"]),
            "topic_cap": lambda: rng.choice(f["topics"]).capitalize(),
            "method": lambda: rng.choice(f["methods"]),
            "method2": lambda: rng.choice(f["methods"]),
            "method_b": lambda: rng.choice(self.other["methods"]),
            "data": lambda: rng.choice(f["data"]),
            "measure": lambda: rng.choice(f["measures"]),
            "things": lambda: rng.choice(f["things"]),
            "thing": lambda: rng.choice(f["things"]).rstrip("s"),
            "phenomenon": lambda: rng.choice(f["phenomena"]),
            "phenomenon2": lambda: rng.choice(f["phenomena"]),
            "phenomenon_b": lambda: rng.choice(self.other["phenomena"]),
            "field2": lambda: self.field2,
            "adj": lambda: rng.choice(ADJECTIVES),
            "hedge": lambda: rng.choice(HEDGES),
            "cite": lambda: rng.choice(self.citations),
            "cite2": lambda: rng.choice(self.citations),
            "cite_paren": lambda: f"({rng.choice(self.citations)})",
            "n": lambda: f"{rng.randint(120, 90_000):,}",
            "m": lambda: f"{rng.randint(1_000, 500_000):,}",
            "m2": lambda: str(rng.randint(30, 400)),
            "k": lambda: str(rng.randint(3, 12)),
            "d": lambda: str(rng.choice([16, 32, 64, 128, 256, 300, 512, 768])),
            "b": lambda: str(rng.choice([16, 32, 64, 128, 256])),
            "e": lambda: str(rng.randint(3, 50)),
            "r": lambda: str(rng.choice([200, 500, 1000, 2000])),
            "s": lambda: str(rng.randint(3, 10)),
            "p": lambda: str(rng.randint(5, 40)),
            "w": lambda: f"{rng.uniform(0.01, 0.5):.2f}",
            "w2": lambda: f"{rng.uniform(0.6, 2.0):.2f}",
            "x": lambda: f"{rng.uniform(20, 70):.1f}",
            "y": lambda: f"{rng.uniform(71, 95):.1f}",
            "x2": lambda: f"{rng.uniform(10, 40):.1f}",
            "y2": lambda: f"{rng.uniform(41, 80):.1f}",
            "diff": lambda: f"{rng.uniform(0.5, 9.0):.1f}",
            "diff2": lambda: f"{rng.uniform(0.2, 3.0):.1f}",
            "hours": lambda: str(rng.randint(2, 72)),
            "mins": lambda: str(rng.randint(1, 45)),
        }
        return one[key]()


def _citations(rng: random.Random, count: int) -> list[str]:
    out = []
    for _ in range(count):
        name = rng.choice(SURNAMES)
        style = rng.random()
        year = rng.randint(1998, 2025)
        out.append(f"{name} et al. ({year})" if style < 0.6 else f"{name} and {rng.choice(SURNAMES)} ({year})")
    return out


def paper(seed: int, words: int = 4000) -> Paper:
    """One paper of about `words` words (bibliography aside) from `seed`."""
    rng = random.Random(seed)
    field_name, field2 = rng.sample(sorted(FIELDS), 2)
    field, other = FIELDS[field_name], FIELDS[field2]
    citations = _citations(rng, rng.randint(12, 24))
    filler = lambda: _Filler(rng, field, other, field2, citations)  # noqa: E731
    method, topic = rng.choice(field["methods"]), rng.choice(field["topics"])
    title = f"{rng.choice(ADJECTIVES).capitalize()} {method} for {topic}: {rng.choice(field['phenomena'])} revisited"
    elements: list[Element] = [("title", title)]
    authors = ", ".join(sorted({rng.choice(SURNAMES) for _ in range(rng.randint(2, 5))}))
    elements.append(("p", f"{authors}. Manuscript {seed}, {field_name}."))
    for heading, group, share in SECTIONS:
        elements.append(("h2" if "." in heading.split(" ")[0][:-1] else "h1", heading))
        budget = int(words * share * 0.93)  # a paragraph ends past the budget: about 7% on average
        written = 0
        while written < budget:
            sentences = rng.randint(3, 7) if group != "abstract" else rng.randint(5, 7)
            pool = TEMPLATES[group]
            text = " ".join(rng.choice(pool).format_map(filler()) for _ in range(sentences))
            elements.append(("p", text))
            written += len(text.split())
        if heading == "4.2 Results":
            rows = [f"{'method':<28}{'setting A':>12}{'setting B':>12}{'setting C':>12}"]
            for name in (rng.choice(field["methods"]), rng.choice(field["methods"]), "ours"):
                rows.append(f"{name[:27]:<28}" + "".join(f"{rng.uniform(40, 95):>12.1f}" for _ in range(3)))
            elements.append(("p", f"Table 1: {rng.choice(field['measures'])} on three settings (higher is better)."))
            elements.append(("pre", "\n".join(rows)))
    elements.append(("h1", "References"))
    for cite in sorted(set(citations)):
        name, year = cite.rsplit(" (", 1)
        elements.append(
            ("p", f"{name}. {rng.choice(FIELDS[rng.choice(sorted(FIELDS))]['topics']).capitalize()} with "
                  f"{rng.choice(field['methods'])}. {rng.choice(VENUES)}, {year.rstrip(')')}.")
        )  # fmt: skip
    return Paper(title, field_name, elements)


def question(rng: random.Random) -> str:
    """A user's question about some field, for query vectors."""
    field = FIELDS[rng.choice(sorted(FIELDS))]
    forms = [
        "How does {method} handle {phenomenon} in {topic}?",
        "Which {measure} do studies of {topic} report?",
        "What data are used to evaluate {method}?",
        "Why does {phenomenon} hurt results on {data}?",
        "Is {method} better than {method2} for {topic}?",
        "How many {things} are needed to estimate {measure} reliably?",
    ]
    return rng.choice(forms).format_map(_Filler(rng, field, field, "", ["Smith et al. (2020)"]))
