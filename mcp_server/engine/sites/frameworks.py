"""The frameworks a site may declare (Appwrite 1.9.6's app/config/frameworks.php): for each, its name, default build
runtime and adapters, each adapter with its default install and build commands, output directory and SPA fallback
file; `sites.listFrameworks` answers them.

A site is served as static files with the `static` adapter (the only one of `other`, and what a site without an
adapter gets); with the `ssr` adapter its framework's server answers (ssr.py).
"""

from __future__ import annotations

from ...catalog import load_catalog
from ..registry import Call, handles

STATIC = "static"
# key: (name, build runtime, {adapter: (install command, build command, output directory, fallback file)})
FRAMEWORKS: dict[str, tuple[str, str, dict[str, tuple[str, str, str, str]]]] = {
    "analog": (
        "Analog",
        "node-22",
        {
            "ssr": ("npm install", "npm run build", "./dist/analog", ""),
            "static": ("npm install", "npm run build", "./dist/analog/public", "index.html"),
        },
    ),
    "angular": (
        "Angular",
        "node-22",
        {
            "ssr": ("npm install", "npm run build", "./dist/angular", ""),
            "static": ("npm install", "npm run build", "./dist/angular/browser", "index.csr.html"),
        },
    ),
    "nextjs": (
        "Next.js",
        "node-22",
        {
            "ssr": ("npm install", "npm run build", "./.next", ""),
            "static": ("npm install", "npm run build", "./out", ""),
        },
    ),
    "react": ("React", "node-22", {"static": ("npm install", "npm run build", "./dist", "index.html")}),
    "nuxt": (
        "Nuxt",
        "node-22",
        {
            "ssr": ("npm install", "npm run build", "./.output", ""),
            "static": ("npm install", "npm run generate", "./output/public", ""),
        },
    ),
    "vue": ("Vue.js", "node-22", {"static": ("npm install", "npm run build", "./dist", "index.html")}),
    "sveltekit": (
        "SvelteKit",
        "node-22",
        {
            "ssr": ("npm install", "npm run build", "./build", ""),
            "static": ("npm install", "npm run build", "./build", ""),
        },
    ),
    "astro": (
        "Astro",
        "node-22",
        {
            "ssr": ("npm install", "npm run build", "./dist", ""),
            "static": ("npm install", "npm run build", "./dist", ""),
        },
    ),
    "tanstack-start": (
        "TanStack Start",
        "node-22",
        {
            "ssr": ("npm install", "npm run build", "./.output", ""),
            "static": ("npm install", "npm run build", "./dist/client", ""),
        },
    ),
    "remix": (
        "Remix",
        "node-22",
        {
            "ssr": ("npm install", "npm run build", "./build", ""),
            "static": ("npm install", "npm run build", "./build/client", ""),
        },
    ),
    "lynx": ("Lynx", "node-22", {"static": ("npm install", "npm run build", "./dist", "index.html")}),
    "flutter": (
        "Flutter",
        "flutter-3.35",
        {"static": ("flutter pub get", "flutter build web --release -t lib/main.dart", "./build/web", "index.html")},
    ),
    "react-native": ("React Native", "node-22", {"static": ("npm install", "npm run build", "./dist", "index.html")}),
    "vite": ("Vite", "node-22", {"static": ("npm install", "npm run build", "./dist", "")}),
    "other": ("Other", "node-22", {"static": ("", "", "./", "")}),
}


def build_runtimes(build_runtime: str) -> list[str]:
    """The build runtimes of the family of `build_runtime` (node-22: every node-*) that sites.create accepts."""
    known = load_catalog().get("sites.create").input_schema["properties"]["buildRuntime"].get("enum", [])
    family = build_runtime.split("-")[0] + "-"
    return [runtime for runtime in known if runtime.startswith(family)]


def framework_model(key: str) -> dict:
    name, build_runtime, adapters = FRAMEWORKS[key]
    return {
        "key": key,
        "name": name,
        "buildRuntime": build_runtime,
        "runtimes": build_runtimes(build_runtime),
        "adapters": [
            {
                "key": adapter,
                "installCommand": install,
                "buildCommand": build,
                "outputDirectory": output,
                "fallbackFile": fallback,
            }
            for adapter, (install, build, output, fallback) in adapters.items()
        ],
    }


@handles("sites.listFrameworks")
def list_frameworks(call: Call) -> dict:
    return {"total": len(FRAMEWORKS), "frameworks": [framework_model(key) for key in FRAMEWORKS]}
