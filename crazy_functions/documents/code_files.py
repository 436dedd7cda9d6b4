"""Which files of a code base are source: languages by suffix, build files by name, folders never read."""

LANGUAGES = {
    ".py": "python", ".pyi": "python", ".ipynb": "json", ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp",
    ".cxx": "cpp", ".hpp": "cpp", ".hh": "cpp", ".cu": "cuda", ".java": "java", ".kt": "kotlin", ".scala": "scala",
    ".go": "go", ".rs": "rust", ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "jsx",
    ".ts": "typescript", ".tsx": "tsx", ".vue": "vue", ".svelte": "svelte", ".sh": "bash", ".bash": "bash",
    ".zsh": "bash", ".ps1": "powershell", ".bat": "bat", ".rb": "ruby", ".php": "php", ".cs": "csharp",
    ".swift": "swift", ".m": "objectivec", ".lua": "lua", ".r": "r", ".jl": "julia", ".dart": "dart", ".sql": "sql",
    ".pl": "perl", ".hs": "haskell", ".ex": "elixir", ".exs": "elixir", ".erl": "erlang", ".clj": "clojure",
    ".f90": "fortran", ".proto": "protobuf", ".cmake": "cmake", ".gradle": "groovy", ".html": "html", ".css": "css",
    ".scss": "scss", ".toml": "toml", ".cfg": "ini",
}  # fmt: skip
PROJECT_FILES = {  # build and run instructions, whatever their suffix
    "makefile": "makefile", "dockerfile": "dockerfile", "cmakelists.txt": "cmake", "package.json": "json",
    "requirements.txt": "text", "go.mod": "go", "cargo.toml": "toml", "pom.xml": "xml", "build.gradle": "groovy",
    "pyproject.toml": "toml", "setup.cfg": "ini", "docker-compose.yml": "yaml", "docker-compose.yaml": "yaml",
}  # fmt: skip
SKIP_DIRS = {
    "node_modules", "__pycache__", "dist", "build", "venv", "site-packages", "vendor", "third_party",
    "target", "obj", "coverage", "htmlcov", "bower_components", "jspm_packages", "__MACOSX",
}  # fmt: skip
