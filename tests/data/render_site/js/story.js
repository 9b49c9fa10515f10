document.addEventListener("DOMContentLoaded", async () => {
  const main = document.getElementById("story");
  const story = await (await fetch(main.dataset.src)).json();
  main.innerHTML = "<article><h1></h1></article>";
  main.querySelector("h1").textContent = story.title;
  for (const text of story.paragraphs) {
    const p = document.createElement("p"); p.textContent = text;
    main.querySelector("article").appendChild(p);
  }
});
